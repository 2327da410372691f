"""Two replicas in one process (two `Memory` objects, each with its own data folder and index
registry) on one database, SQLite and PostgreSQL: a write through either is in the other's
vector index and found by its searches within 1 s; deletes, edits and erasures likewise."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from memsvc import Memory
from memsvc.db.models import IndexChange, Note
from memsvc.embed import CachedEmbedder
from memsvc.stores.index_changes import PARTS_SUFFIX
from tests.conftest import make_settings

PARTITION = "default/u/alice"
FACTS = [
    f"Fact {i}: my {thing} is {colour}."
    for i, (thing, colour) in enumerate(
        (t, c)
        for t in ("bike", "door", "mug", "scarf", "tent", "kite")
        for c in ("red", "blue", "green", "yellow")
    )
]


def wait_for(check: Callable[[], bool], limit_s: float = 1.0) -> float:
    """Seconds until `check()` holds; fails past `limit_s`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > limit_s:
            raise AssertionError(f"not consistent within {limit_s} s")
        time.sleep(0.01)
    return time.monotonic() - start


@pytest.fixture
def pair(db_url: str, tmp_path: Path, embedder: CachedEmbedder) -> Iterator[tuple[Memory, Memory]]:
    a = Memory(make_settings(tmp_path / "a", db_url), embedder=embedder)
    b = Memory(make_settings(tmp_path / "b", db_url), embedder=embedder)
    yield a, b
    a.close()
    b.close()


def in_index(mem: Memory, memory_id: str) -> bool:
    """Whether the replica's key index returns the note as the nearest of its own vector."""
    rt = mem.runtime
    with rt.db.read() as session:
        row = session.execute(select(Note.pk, Note.embedding).where(Note.id == memory_id)).one()
    vec = np.frombuffer(row.embedding, np.float32)
    _, ids = rt.indexes.search(PARTITION, vec, 1)
    return bool(ids[0][0] == row.pk)


def db_count(mem: Memory) -> int:
    with mem.runtime.db.read() as session:
        n = session.scalar(
            select(func.count()).select_from(Note).where(Note.partition == PARTITION)
        )
    return int(n or 0)


def test_writes_deletes_and_erasure_reach_the_other_replica(pair: tuple[Memory, Memory]) -> None:
    a, b = pair
    a.add("I keep a diary.", user_id="alice", infer=False)
    b.search("diary", user_id="alice")  # both replicas hold the partition in memory
    lags: list[float] = []
    ids: list[str] = []
    for i, fact in enumerate(FACTS):  # 24 writes alternating between the replicas
        writer, reader = (a, b) if i % 2 == 0 else (b, a)
        res = writer.add(fact, user_id="alice", infer=False)
        memory_id = res.results[0].id or ""
        ids.append(memory_id)
        lags.append(wait_for(lambda r=reader, m=memory_id: in_index(r, m)))  # type: ignore[misc]
        hits = reader.search(fact, user_id="alice", top_k=3).results
        assert memory_id in {h.id for h in hits}
    print(f"replica catch-up: max {max(lags) * 1000:.0f} ms, mean {np.mean(lags) * 1000:.0f} ms")
    assert max(lags) < 1.0
    # Back-to-back writes through both replicas: each writer's index was stale when it wrote.
    burst = [
        (a if i % 2 else b).add(f"Burst {i}: the code is {i * 7919}.", user_id="alice", infer=False)
        for i in range(8)
    ]
    for res in burst:
        for mem in (a, b):
            wait_for(lambda m=mem, r=res: in_index(m, r.results[0].id or ""))  # type: ignore[misc]
    # Edit through A, delete through B: the other replica follows.
    a.update(ids[0], "Fact 0: my bike is now painted black.", user_id="alice")
    wait_for(lambda: in_index(b, ids[0]))
    assert b.search("black bike", user_id="alice", top_k=1).results[0].id == ids[0]
    b.delete(ids[1], user_id="alice")
    for mem in (a, b):
        wait_for(lambda m=mem: m.runtime.indexes.count(PARTITION) == db_count(m))  # type: ignore[misc]
        assert ids[1] not in {h.id for h in mem.search(FACTS[1], user_id="alice").results}
    with a.runtime.db.read() as session:
        logged = session.scalar(select(func.count()).select_from(IndexChange))
    assert logged and logged >= len(FACTS) + 10
    # Erasure through B: A's memory forgets the partition (both indexes) within 1 s.
    b.erase_user("alice")
    wait_for(lambda: PARTITION not in a.runtime.indexes.loaded())
    assert PARTITION.replace(PARTS_SUFFIX, "#parts") + "#parts" not in a.runtime.indexes.loaded()
    assert a.search("bike", user_id="alice").results == []
    # Written again after the erasure: a fresh version, never one A still remembers.
    a.add("A new start.", user_id="alice", infer=False)
    wait_for(lambda: b.runtime.indexes.count(PARTITION) == 1)


def test_single_replica_applies_its_own_writes_without_the_log(
    pair: tuple[Memory, Memory],
) -> None:
    """Contiguous local writes take the fast path: the index never rebuilds or re-reads."""
    a, _ = pair
    a.add("First.", user_id="alice", infer=False)
    before = a.runtime.indexes._slot(PARTITION).index
    for i in range(5):
        a.add(f"Note {i} about tea.", user_id="alice", infer=False)
    assert a.runtime.indexes._slot(PARTITION).index is before
    assert a.runtime.indexes.count(PARTITION) == db_count(a) == 6


def test_a_restarted_replica_applies_the_log_to_its_saved_index(
    db_url: str, tmp_path: Path, embedder: CachedEmbedder
) -> None:
    """A replica that was down while others wrote loads its saved folder and applies the
    logged changes instead of rebuilding (the folder it switched to stays the same)."""
    import json

    a = Memory(make_settings(tmp_path / "a", db_url), embedder=embedder)
    b = Memory(make_settings(tmp_path / "b", db_url), embedder=embedder)
    try:
        first = a.add("I keep bees.", user_id="alice", infer=False).results[0].id or ""
        wait_for(lambda: in_index(b, first))
        b.close()  # saves its index at the current version
        folder = b.runtime.indexes.folder(PARTITION)
        saved = json.loads((folder / "state.json").read_text())
        later = [a.add(f, user_id="alice", infer=False).results[0].id or "" for f in FACTS[:4]]
        a.delete(first, user_id="alice")
        b = Memory(make_settings(tmp_path / "b", db_url), embedder=embedder)
        assert all(in_index(b, m) for m in later)
        assert b.runtime.indexes.count(PARTITION) == db_count(b) == 4
        b.close()
        state = json.loads((folder / "state.json").read_text())
        assert state["dir"] == saved["dir"] and state["version"] > saved["version"]
    finally:
        a.close()
        b.close()


def test_link_expansion_sees_the_other_replicas_links_at_once(
    pair: tuple[Memory, Memory],
) -> None:
    """Expansion reads links per search, so B walks the links A wrote as soon as they commit,
    with nothing to reload or wait for."""
    from memsvc.db.models import NoteLink
    from memsvc.stores import graphs

    a, b = pair
    a.add("I play the cello in an orchestra.", user_id="alice")
    b.search("cello", user_id="alice")
    # Offline planning (infer on, no LLM) links a similar note sharing keywords.
    a.add("I practise the cello every evening for the orchestra concert.", user_id="alice")
    with a.runtime.db.read() as session:
        rows = session.execute(
            select(NoteLink.source_pk, NoteLink.target_pk).where(NoteLink.partition == PARTITION)
        ).all()
    assert rows, "the two cello notes should be linked"
    with b.runtime.db.read() as session:
        for source, target in rows:
            assert target in graphs.expand(session, PARTITION, {source: 1.0}, 1, 0.5)
