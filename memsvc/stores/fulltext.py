"""Full-text queries started ahead of the search that needs them (see `FullTextSearcher`).
The statements are `memsvc.db.queries.fulltext`; `memsvc.services.lexical` picks the terms."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.orm import Session

from memsvc.db.engine import Database
from memsvc.db.queries import fulltext

Hits = list[tuple[int, float]]


class FullTextSearcher:
    """Starts a search's full-text query before the rest of the search needs it.

    Ranking a partition's full-text matches is mostly the database's work (SQLite's
    `sqlite3_step` and PostgreSQL's server both leave Python's interpreter lock free; on a
    SQLite store of many partitions the last step, scoring a few hundred candidates with the
    partition's counts, is Python's), and it needs only the query's terms: run on its own
    connection from `threads` worker threads, it overlaps the query's embedding and the
    vector searches. The hits are primary keys and scores; the rows are read in the search's
    own session (filtered by partition there), so a write committed between the two reads can
    only drop a hit, never add another partition's note. With no threads, or an in-memory
    SQLite database (one database per connection), or when every worker is busy when the hits
    are wanted, the query runs in the caller's session."""

    def __init__(self, db: Database, threads: int) -> None:
        separate = threads > 0 and db.engine.url.database not in (None, "", ":memory:")
        # The workers' connections come from a pool of their own: a search holds its session's
        # connection while it waits for its hits, so workers drawing from the same pool could
        # wait for connections held by the very searches waiting for them.
        self._db = (
            Database(db.settings.model_copy(update={"pool_size": threads})) if separate else db
        )
        self._pool = (
            ThreadPoolExecutor(threads, thread_name_prefix="memsvc-fulltext") if separate else None
        )

    def start(
        self, partition: str, terms: Sequence[str], limit: int, notes: int | None = None
    ) -> PendingHits:
        """`notes`: the partition's note count when the caller knows it (see
        `fulltext.matches`)."""
        query = _Query(partition, tuple(terms), limit, notes)
        if self._pool is None or not terms or limit <= 0:
            return PendingHits(None, query)
        try:
            future = self._pool.submit(self._run, query)
        except RuntimeError:  # shut down (the runtime is closing): the caller runs it
            future = None
        return PendingHits(future, query)

    def _run(self, query: _Query) -> Hits:
        with self._db.read() as session:
            return query.run(session)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._db.dispose()


@dataclass(frozen=True)
class _Query:
    partition: str
    terms: tuple[str, ...]
    limit: int
    notes: int | None

    def run(self, session: Session) -> Hits:
        return fulltext.matches(
            session,
            partition=self.partition,
            terms=self.terms,
            limit=self.limit,
            notes=self.notes,
        )


class PendingHits:
    """The full-text hits of one search, running or not yet started."""

    def __init__(self, future: Future[Hits] | None, query: _Query) -> None:
        self._future, self._query = future, query

    def result(self, session: Session) -> Hits:
        # Not started yet (every worker busy): the caller runs it rather than queue behind
        # other searches' full-text queries.
        if self._future is None or self._future.cancel():
            return self._query.run(session)
        return self._future.result()
