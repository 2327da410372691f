"""SpannIndex behaviour: the VectorIndex contract, upserts, deletes, online splits and merges,
compaction, concurrency. Exact search (FlatIndex) is the reference throughout."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from memsvc.index.base import VectorIndex
from memsvc.index.flat import FlatIndex
from memsvc.index.spann import SpannIndex, SpannParams
from tests.index.conftest import clustered, recall_at

Data = tuple[np.ndarray, np.ndarray, np.ndarray]


def flat_of(ids: np.ndarray, vecs: np.ndarray) -> FlatIndex:
    f = FlatIndex(vecs.shape[1])
    f.add(ids, vecs)
    return f


def test_contract_shapes_padding_and_protocol(tmp_path: Path, data: Data) -> None:
    ids, x, q = data
    with SpannIndex.build(ids[:20], x[:20], tmp_path / "ix") as ix:
        assert isinstance(ix, VectorIndex) and ix.kind == "spann" and ix.dim == 32
        assert ix.count() == 20 and sorted(ix.ids().tolist()) == sorted(ids[:20].tolist())
        s, i = ix.search(q[:3], 30)
        assert s.shape == i.shape == (3, 30) and s.dtype == np.float32 and i.dtype == np.int64
        assert (i[:, 20:] == -1).all() and np.isneginf(s[:, 20:]).all()
        assert (np.diff(s[:, :20], axis=1) <= 0).all()
        with pytest.raises(ValueError):
            ix.search(q[:1, :5], 3)
    with SpannIndex.create(32, tmp_path / "empty") as empty:
        s, i = empty.search(q[:2], 4)
        assert (i == -1).all() and empty.count() == 0


def test_default_build_matches_exact_search(tmp_path: Path, data: Data) -> None:
    ids, x, q = data
    with SpannIndex.build(ids, x, tmp_path / "ix") as ix:
        _, truth = flat_of(ids, x).search(q, 10)
        s, found = ix.search(q, 10)
        assert recall_at(found, truth) >= 0.98
        # Scores are inner products of the (fp16-stored) vectors.
        pos = {int(v): j for j, v in enumerate(ids)}
        for row_s, row_i, qq in zip(s, found, q, strict=True):
            ref = x[[pos[int(v)] for v in row_i]] @ qq
            np.testing.assert_allclose(row_s, ref, atol=2e-3)
        st = ix.stats()
        assert st["count"] == 3000 and st["lists"] > 100 and st["entries"] >= 3000
        assert 0 < st["ram_bytes"] < x.nbytes and st["bytes_on_disk"] > 0


def test_pruning_limits_probed_lists(tmp_path: Path, data: Data) -> None:
    ids, x, q = data
    with SpannIndex.build(ids, x, tmp_path / "ix") as ix:
        _, truth = flat_of(ids, x).search(q, 10)
        recalls = [
            recall_at(ix.search(q, 10, max_probe=m, probe_ratio=10.0)[1], truth) for m in (1, 4, 64)
        ]
        assert recalls[0] < recalls[1] < recalls[2]
        # A tight ratio probes only the nearest list, whatever max_probe allows.
        one = recall_at(ix.search(q, 10, max_probe=64, probe_ratio=1.0)[1], truth)
        assert one == pytest.approx(recalls[0], abs=0.05)


def test_upsert_and_delete(tmp_path: Path, data: Data) -> None:
    ids, x, q = data
    with SpannIndex.build(ids, x, tmp_path / "ix") as ix:
        target = int(ids[10])
        ix.add(np.array([target]), q[:1])  # move id 10 onto query 0
        assert ix.count() == 3000
        s, i = ix.search(q[:1], 1)
        assert i[0, 0] == target and s[0, 0] == pytest.approx(1.0, abs=2e-3)
        _, i = ix.search(x[10:11], 5)
        assert target not in i[0].tolist()  # the old vector is gone
        gone = ids[:500]
        assert ix.remove(np.r_[gone, 10**9]) == 500 and ix.remove(gone) == 0
        assert ix.count() == 2500 and not np.isin(gone, ix.ids()).any()
        _, i = ix.search(x[:500], 10)
        assert not np.isin(i, gone).any()
        assert ix.stats()["tombstones"] >= 500
        ix.add(gone[:3], x[:3])  # re-adding removed ids works
        _, i = ix.search(x[:3], 1)
        assert i[:, 0].tolist() == gone[:3].tolist()


def test_online_inserts_split_lists_and_keep_recall(tmp_path: Path) -> None:
    x = clustered(4000, seed=3)
    ids = np.arange(4000, dtype=np.int64)
    p = SpannParams(posting_size=24)
    with SpannIndex.create(32, tmp_path / "ix", p) as ix:
        for s in range(0, 4000, 250):
            ix.add(ids[s : s + 250], x[s : s + 250])
        st = ix.stats()
        assert st["count"] == 4000 and st["lists"] > 4000 / 24
        counts = ix._core.store.count[: st["heads"]][ix._core.heads.alive]
        assert counts.max() <= 24 and st["dead_heads"] > 0  # split heads are retired
        q = clustered(150, seed=4)
        _, truth = flat_of(ids, x).search(q, 10)
        assert recall_at(ix.search(q, 10)[1], truth) >= 0.95


def test_compaction_merges_small_lists_and_drops_garbage(tmp_path: Path, data: Data) -> None:
    ids, x, q = data
    with SpannIndex.build(ids, x, tmp_path / "ix", SpannParams(merge_size=4)) as ix:
        keep = np.zeros(3000, dtype=bool)
        keep[::10] = True
        ix.remove(ids[~keep])
        before = ix.stats()
        ix.compact()
        after = ix.stats()
        assert after["generation"] == before["generation"] + 1
        assert after["tombstones"] == 0 and after["dead_heads"] == 0 and after["count"] == 300
        assert after["lists"] < before["lists"] and after["bytes_on_disk"] < before["bytes_on_disk"]
        _, truth = flat_of(ids[keep], x[keep]).search(q, 10)
        assert recall_at(ix.search(q, 10)[1], truth) >= 0.97
        assert sorted(ix.ids().tolist()) == sorted(ids[keep].tolist())
        assert ix.maybe_compact() is False


def test_concurrent_searches_with_one_writer(tmp_path: Path, data: Data) -> None:
    ids, x, q = data
    extra = clustered(1500, seed=9)
    errors: list[BaseException] = []
    stop = threading.Event()
    with SpannIndex.build(ids, x, tmp_path / "ix", SpannParams(posting_size=32)) as ix:

        def reader() -> None:
            try:
                while not stop.is_set():
                    s, i = ix.search(q[:8], 10)
                    assert (i[:, 0] >= 0).all() and np.isfinite(s[:, 0]).all()
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            for s in range(0, 1500, 100):
                ix.add(10**6 + np.arange(s, s + 100), extra[s : s + 100])
                ix.remove(ids[s : s + 50])
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert not errors, errors[0]
        assert ix.count() == 3000 + 1500 - 750
        _, i = ix.search(extra[:200], 1)
        assert (i[:, 0] == 10**6 + np.arange(200)).mean() >= 0.97
