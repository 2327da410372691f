"""SPANN's garbage and its compaction: what a moved block leaves behind is counted exactly,
compaction drops it without changing what the index finds, and the registry compacts at its
periodic save (before 2026-12-08 nothing did: a 100k-note partition's posting file held 8 x
its live blocks)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from memsvc import Memory
from memsvc.config import Settings
from memsvc.embed import CachedEmbedder
from memsvc.index.spann.index import SpannIndex
from memsvc.index.spann.params import SpannParams
from memsvc.index.spann.postings import PostingStore
from memsvc.services.scope import Scope
from tests.conftest import make_settings
from tests.index.conftest import clustered, recall_at

ROW = 16  # bytes a row: small rows, several per page
PAGE = 256

# (list, entries, room): write the list afresh; entries None clears it instead.
Op = tuple[int, int | None, int]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(0, 40)), st.integers(0, 12)),
        min_size=1,
        max_size=30,
    )
)
def test_block_bytes_is_what_the_lists_hold_now(ops: list[Op]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = PostingStore(Path(tmp) / "p.bin", row_bytes=ROW, page=PAGE, io="mmap", create=True)
        try:
            held: dict[int, int] = {}  # list -> bytes of its current block, from `used`
            for lst, m, room in ops:
                if m is None:
                    store.ensure_lists(lst + 1)
                    store.clear(lst)
                    held.pop(lst, None)
                    continue
                before = store.used
                slots = np.arange(m, dtype=np.int32)
                codes = np.full((m, ROW), lst, dtype=np.uint8)
                store.write_list(lst, slots, codes, room=room)
                held[lst] = store.used - before
                # Appends fill the spare room in place: no new block, nothing moved.
                if store.append(lst, slots[:1], codes[:1]):
                    assert store.used == before + held[lst]
            assert store.block_bytes() == sum(held.values())
            assert store.used - store.block_bytes() >= 0
        finally:
            store.close()


def _answers(ix: SpannIndex, q: np.ndarray) -> list[list[int]]:
    return [row.tolist() for row in ix.search(q, 10)[1]]


def test_appends_leave_garbage_that_compaction_drops(tmp_path: Path) -> None:
    x = clustered(3100, seed=3)
    ids, vecs, q = np.arange(3000, dtype=np.int64) * 3 + 2, x[:3000], x[3000:]
    with SpannIndex.create(32, tmp_path / "ix", SpannParams(posting_size=40)) as ix:
        for s in range(0, 3000, 25):  # many small adds, as ingest sends them
            ix.add(ids[s : s + 25], vecs[s : s + 25])
        before = ix.stats()
        moved = 1 - before["posting_bytes_in_use"] / before["posting_bytes"]
        assert moved > 0.3  # appends alone: blocks that lists moved out of
        assert ix.garbage() >= moved
        assert ix.maybe_compact(0.3) is True
        after = ix.stats()
        assert ix.garbage() == 0.0
        assert after["posting_bytes"] == after["posting_bytes_in_use"]
        assert after["bytes_on_disk"] < before["bytes_on_disk"] / 2
        assert after["generation"] == before["generation"] + 1
        assert sorted(ix.ids().tolist()) == sorted(ids.tolist())
        flat = np.argsort(-(q @ vecs.T), axis=1)[:, :10]
        assert recall_at(np.array(_answers(ix, q)), ids[flat]) >= 0.95
        answers = _answers(ix, q)
        assert ix.maybe_compact(0.3) is False
    with SpannIndex.load(tmp_path / "ix") as again:  # the compacted generation was saved
        assert _answers(again, q) == answers and again.garbage() == 0.0


def _spann_memory(tmp_path: Path, embedder: CachedEmbedder, **index: object) -> Memory:
    cfg: Settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'memsvc.db'}",
        index={"spann_threshold": 60, "spann": {"posting_size": 12}, **index},
    )
    return Memory(cfg, embedder=embedder)


def _spann_of(mem: Memory, user: str) -> SpannIndex:
    partition = Scope("default", user, None, None).partition
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the switch to SPANN is built in the background
        ix = mem.runtime.indexes._ensure(partition)
        if isinstance(ix, SpannIndex):
            return ix
        time.sleep(0.05)
    raise AssertionError("the partition never switched to SPANN")


TOPICS = ["hiking", "baking", "chess", "sailing", "pottery", "jazz", "running", "knitting"]
TEXTS = [
    f"Entry {i}: on day {i} I went {TOPICS[i % 8]} with neighbour {i % 13} near lake {i % 5}."
    for i in range(180)
]
QUESTIONS = ["who did I go sailing with?", "when did I bake?", "chess near the lake"]


def _top(mem: Memory, user: str) -> list[list[str]]:
    hits = (mem.search(q, user_id=user, top_k=10, reinforce=False) for q in QUESTIONS)
    return [[h.id for h in r.results] for r in hits]  # no reinforcement: ranks stay as they were


def test_the_periodic_save_compacts_and_nothing_found_changes(
    tmp_path: Path, embedder: CachedEmbedder
) -> None:
    with _spann_memory(tmp_path, embedder) as mem:
        mem.add(TEXTS[:80], user_id="u", infer=False)
        _spann_of(mem, "u")
        for s in range(80, 180, 5):  # small adds after the switch: appends and moved blocks
            mem.add(TEXTS[s : s + 5], user_id="u", infer=False)
        ix = _spann_of(mem, "u")
        assert ix.garbage() > 0.3
        gen, found = ix.stats()["generation"], _top(mem, "u")
        mem.sync()  # what the background worker's save does every `save_interval_s`
        assert ix.garbage() == 0.0 and ix.stats()["generation"] == gen + 1
        assert mem.runtime.indexes.compactions == 1 and mem.runtime.indexes.compaction_s > 0
        assert _top(mem, "u") == found
    with _spann_memory(tmp_path, embedder) as mem:  # reopened from the saved, compacted folder
        again = _spann_of(mem, "u")
        assert again.stats()["generation"] == gen + 1 and again.count() == 180
        assert _top(mem, "u") == found


def test_compaction_can_be_turned_off(tmp_path: Path, embedder: CachedEmbedder) -> None:
    with _spann_memory(tmp_path, embedder, compact_garbage=1.0) as mem:
        mem.add(TEXTS[:80], user_id="u", infer=False)
        _spann_of(mem, "u")
        for s in range(80, 180, 5):
            mem.add(TEXTS[s : s + 5], user_id="u", infer=False)
        ix = _spann_of(mem, "u")
        gen, garbage = ix.stats()["generation"], ix.garbage()
        mem.sync()
        assert ix.stats()["generation"] == gen and ix.garbage() == garbage > 0.3
        assert mem.runtime.indexes.compactions == 0


def test_closing_saves_without_compacting(tmp_path: Path, embedder: CachedEmbedder) -> None:
    """A stop must not wait for a compaction (seconds at 100k notes): close saves as is."""
    with _spann_memory(tmp_path, embedder) as mem:
        mem.add(TEXTS[:80], user_id="u", infer=False)
        _spann_of(mem, "u")
        for s in range(80, 180, 5):
            mem.add(TEXTS[s : s + 5], user_id="u", infer=False)
        ix = _spann_of(mem, "u")
        gen, garbage, found = ix.stats()["generation"], ix.garbage(), _top(mem, "u")
        assert garbage > 0.3
    with _spann_memory(tmp_path, embedder) as mem:
        again = _spann_of(mem, "u")
        assert again.stats()["generation"] == gen and again.garbage() == garbage
        assert again.count() == 180 and _top(mem, "u") == found


def test_searches_run_through_compactions(tmp_path: Path) -> None:
    """The save compacts while requests search: every search during the rewrite and the swap
    still finds what the index holds (stored vectors as queries: their own id first)."""
    import threading

    x = clustered(4600, seed=5)
    ids = np.arange(3000, dtype=np.int64) * 5 + 1
    errors: list[BaseException] = []
    searches = [0]
    stop = threading.Event()
    with SpannIndex.build(ids, x[:3000], tmp_path / "ix", SpannParams(posting_size=32)) as ix:

        def reader() -> None:
            try:
                while not stop.is_set():
                    s, i = ix.search(x[:8], 5)
                    assert (i[:, 0] == ids[:8]).all() and (s[:, 0] > 0.999).all()
                    searches[0] += 1
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for t in threads:
            t.start()
        compactions = 0
        try:
            for n, s in enumerate(range(3000, 4600, 40)):  # small adds, a compaction in five
                ix.add(10**6 + np.arange(s, s + 40), x[s : s + 40])
                if n % 5 == 4:
                    ix.compact()
                    compactions += 1
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert not errors, errors[0]
        assert compactions == 8 and searches[0] > 0
        assert ix.count() == 4600 and ix.stats()["generation"] == 1 + compactions
