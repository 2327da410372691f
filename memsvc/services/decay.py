"""MemoryBank's forgetting in the service: a sweep softly forgets faded notes (reinforcement on
recall lives in `reinforce`). The sweep measures time on each partition's own clock
(`memsvc.stores.clock`, the same time base searches use), so a replayed year of history
decays as if lived, and a user who was away does not lose everything while nobody talked
to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from memsvc.config import Settings
from memsvc.db.engine import Database
from memsvc.db.models import Note
from memsvc.db.queries import locks
from memsvc.decay import retention
from memsvc.services import history, idempotency
from memsvc.stores import clock
from memsvc.stores.reinforce import Reinforcer


@dataclass
class SweepResult:
    checked: int = 0
    forgotten: int = 0
    expired_keys: int = 0  # idempotency keys past their TTL, deleted
    skipped: bool = False  # another replica was sweeping: this one did nothing


# pg_try_advisory_lock key of the sweep ("memsvc" in ASCII): one sweeper per database.
SWEEP_LOCK = 0x6D656D737663


@contextmanager
def _sweeper(db: Database) -> Iterator[bool]:
    """Whether this process may sweep now. On PostgreSQL, replicas take a session advisory
    lock on a connection of their own (released by the server if the process dies); SQLite's
    single writer already serialises sweeps."""
    if db.is_sqlite:
        yield True
        return
    with db.engine.connect() as conn:
        got = locks.try_advisory_lock(conn, key=SWEEP_LOCK)
        conn.commit()
        try:
            yield got
        finally:
            if got:
                locks.advisory_unlock(conn, key=SWEEP_LOCK)
                conn.commit()


def sweep(
    *,
    db: Database,
    reinforcer: Reinforcer,
    settings: Settings,
    as_of: datetime | None = None,
    partition: str | None = None,
) -> SweepResult:
    """Mark active notes whose retention fell under the threshold as `forgotten`; at most
    one replica sweeps at a time (the others return `skipped`). `settings`: the decay section
    and the API's idempotency TTL (expired keys are purged on the same schedule)."""
    with _sweeper(db) as mine:
        if not mine:
            return SweepResult(skipped=True)
        return _sweep(db, reinforcer, settings, as_of=as_of, partition=partition)


def _sweep(
    db: Database,
    reinforcer: Reinforcer,
    settings: Settings,
    *,
    as_of: datetime | None,
    partition: str | None,
) -> SweepResult:
    cfg = settings.decay
    result = SweepResult()
    with db.write() as session:  # housekeeping on the same schedule
        ttl = timedelta(seconds=settings.api.idempotency_ttl_s)
        result.expired_keys = idempotency.purge_expired(session, ttl)
    if not cfg.enabled:
        return result
    reinforcer.flush(db)  # recalls not yet written still count
    with db.read() as session:
        partitions = (
            [partition] if partition else list(session.scalars(select(Note.partition).distinct()))
        )
    for key in partitions:
        with db.write() as session:
            now = as_of or clock.read(session, key)
            if now is None:
                continue
            notes = session.scalars(
                select(Note).where(Note.partition == key, Note.status == "active")
            ).all()
            for note in notes:
                result.checked += 1
                r = retention(note.strength, note.last_recalled_at, now, cfg.time_scale_days)
                if r < cfg.threshold:
                    before = history.snapshot(note)
                    note.status = "forgotten"
                    history.record(
                        session,
                        note,
                        "FORGET",
                        before=before,
                        after=history.snapshot(note),
                        actor="decay",
                        reason=f"retention {r:.3f} < {cfg.threshold} at {now.isoformat()}",
                    )
                    result.forgotten += 1
    return result
