"""The full-text stage started beside the query's embedding (`recall.lexical_threads`,
`memsvc.stores.fulltext`): the same hits as in the search's own thread, on SQLite and
PostgreSQL, never another partition's note, and a correct answer when every worker is busy
or the searcher is closed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from memsvc import Memory
from memsvc.db.models import Note
from memsvc.db.queries import fulltext
from memsvc.services.lexical import query_terms
from memsvc.stores.fulltext import FullTextSearcher

TURNS = [
    "I adopted a beagle called Max last spring and he loves the park.",
    "My sister Ana moved to Lisbon for a job at a bakery.",
    "We watched the marathon in Porto; my cousin finished in four hours.",
    "I started learning the cello in January, lessons on Tuesdays.",
    "The bakery near the station sells the best custard tarts.",
    "Max chewed my running shoes again, so I bought him a rope toy.",
    "My favorite hike is the trail above the lake near Sintra.",
    "Ana says the Lisbon bakery opens at six every morning.",
]
OTHER = [
    "The other tenant's beagle is called Rex and lives in Lisbon.",
    "Their bakery secret: custard tarts with lemon zest.",
]
WORDS = [*sorted({w for t in TURNS + OTHER for w in query_terms(t)}), "zebra", "cello"]


@pytest.fixture
def stores(memory_factory: Callable[..., Memory], db_url: str) -> Iterator[tuple[Memory, Memory]]:
    """One store searched with the full-text stage in worker threads and in the search's own
    thread (a view over the same store)."""
    mem = memory_factory(db_url, recall={"lexical_threads": 4})
    mem.add(messages=[{"role": "user", "content": t} for t in TURNS], user_id="a", wait=True)
    mem.add(messages=[{"role": "user", "content": t} for t in OTHER], user_id="b", wait=True)
    inline = mem.settings.model_copy(deep=True)
    inline.recall.lexical_threads = 0
    view = mem.search_view(inline)
    view.runtime.fulltext = FullTextSearcher(mem.runtime.db, 0)
    yield mem, view


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
def test_same_hits_as_inline(stores: tuple[Memory, Memory], words: list[str]) -> None:
    threaded, inline = stores
    query = " ".join(words) + "?"
    a = threaded.search(query, user_id="a", top_k=8, reinforce=False, explain=True)
    b = inline.search(query, user_id="a", top_k=8, reinforce=False, explain=True)
    assert [(h.id, h.score, h.explain) for h in a.results] == [
        (h.id, h.score, h.explain) for h in b.results
    ]
    assert all(h.user_id == "a" for h in a.results)
    assert all("tenant" not in h.memory and "zest" not in h.memory for h in a.results)


def test_busy_workers_and_closed_searcher(memory_factory: Callable[..., Memory]) -> None:
    mem = memory_factory()
    mem.add(messages=[{"role": "user", "content": t} for t in TURNS], user_id="a", wait=True)
    db = mem.runtime.db
    hit = mem.search("bakery", user_id="a").results[0]
    with db.read() as s:
        part = s.scalar(select(Note.partition).where(Note.id == hit.id))
    assert part is not None
    terms = query_terms("Which bakery does Ana like in Lisbon?")
    with db.read() as s:
        expected = fulltext.matches(s, partition=part, terms=terms, limit=5)
    assert expected

    searcher = FullTextSearcher(db, 1)
    gate = threading.Event()
    assert searcher._pool is not None
    blocker = searcher._pool.submit(gate.wait)  # the only worker is busy
    pending = searcher.start(part, terms, 5)
    with db.read() as s:
        assert pending.result(s) == expected  # not started: answered in the caller's session
    gate.set()
    blocker.result()
    pending = searcher.start(part, terms, 5)
    with db.read() as s:
        assert pending.result(s) == expected  # from the worker
    searcher.close()
    pending = searcher.start(part, terms, 5)
    with db.read() as s:
        assert pending.result(s) == expected  # closed: in the caller's session


def test_workers_never_wait_for_the_searches_connections(
    memory_factory: Callable[..., Memory], db_url: str
) -> None:
    """Every connection of the store's pool held (searches waiting for their hits hold
    theirs): a worker still runs the statement, from a pool of its own."""
    mem = memory_factory(db_url, database={"pool_size": 1})
    mem.add(messages=[{"role": "user", "content": t} for t in TURNS], user_id="a", wait=True)
    db = mem.runtime.db
    with db.read() as s:
        part = s.scalar(select(Note.partition).where(Note.user_id == "a"))
        assert part is not None
        terms = query_terms("Which bakery does Ana like in Lisbon?")
        expected = fulltext.matches(s, partition=part, terms=terms, limit=5)
        pool = db.engine.pool
        held = [db.engine.connect() for _ in range(pool.size() + pool._max_overflow - 1)]  # type: ignore[attr-defined]
        try:
            searcher = FullTextSearcher(db, 2)
            pending = searcher.start(part, terms, 5)
            assert pending._future is not None
            assert pending._future.result(timeout=20) == expected  # ran in a worker
            assert pending.result(s) == expected
            searcher.close()
        finally:
            for conn in held:
                conn.close()
