"""The batch CPU search (`memsvc.index.spann.batch`) returns exactly what the single-query
path returns for each query: the same ids in the same order and bit-identical scores, on real
MiniLM embeddings and on clustered vectors, with flat and HNSW heads, tombstones, online
splits, both I/O modes, and with its chunks on a thread pool."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memsvc.index.spann import SpannIndex, SpannParams
from memsvc.index.spann import batch as spann_batch
from tests.index.conftest import clustered
from tests.index.realdata import DATA, real_embeddings


def one_by_one(ix: SpannIndex, q: np.ndarray, k: int, **kw: int) -> tuple[np.ndarray, np.ndarray]:
    parts = [ix.search(v[None, :], k, device="cpu", **kw) for v in q]
    return np.vstack([s for s, _ in parts]), np.vstack([i for _, i in parts])


def assert_same(ix: SpannIndex, q: np.ndarray, k: int, **kw: int) -> None:
    ref_s, ref_i = one_by_one(ix, q, k, **kw)
    assert (ref_i >= 0).any()  # a search that finds nothing would pass vacuously
    p = ix._core.params
    mp, pr = kw.get("max_probe", p.max_probe), p.probe_ratio
    for threads in (1, 3):
        s, i = ix.search(q, k, device="cpu", threads=threads, **kw)
        np.testing.assert_array_equal(i, ref_i)
        np.testing.assert_array_equal(s, ref_s)
        # The batch path itself, also where `search` keeps flat heads on the plain loop.
        s, i = spann_batch.search_batch(ix._core, q, k, mp, pr, threads)
        np.testing.assert_array_equal(i, ref_i)
        np.testing.assert_array_equal(s, ref_s)


@pytest.mark.skipif(not (DATA / "longmemeval").is_dir(), reason=f"no chat data under {DATA}")
def test_batch_equals_single_queries_on_real_embeddings(tmp_path: Path) -> None:
    x = real_embeddings(1500)
    base, q = x[:1300], x[1300:]
    ids = np.arange(1300, dtype=np.int64) * 5 + 3
    with SpannIndex.build(ids, base, tmp_path / "ix") as ix:
        assert ix.stats()["head_index"] == "flat"
        for mp in (4, 32, 96):
            assert_same(ix, q, 10, max_probe=mp)
        ix.remove(ids[::4])  # tombstones: dropped by both paths alike
        assert_same(ix, q, 10)
        assert_same(ix, q, 1)


@pytest.mark.parametrize("io", ["mmap", "pread"])
def test_batch_equals_single_queries_hnsw_heads_and_updates(tmp_path: Path, io: str) -> None:
    x = clustered(4200, d=48, centers=80)
    base, q = x[:4000], x[4000:]
    ids = np.arange(4000, dtype=np.int64)
    params = SpannParams(head_index="hnsw", posting_size=24, io=io)
    with SpannIndex.build(ids[:1500], base[:1500], tmp_path / "ix", params) as ix:
        for s in range(1500, 4000, 500):  # online inserts split lists
            ix.add(ids[s : s + 500], base[s : s + 500])
        ix.remove(ids[::7])
        ix.add(ids[:50], base[50:100])  # upserts: old replicas die
        assert ix.stats()["tombstones"] > 0
        assert_same(ix, q, 10)
        assert_same(ix, q, 40, max_probe=8)  # k past what a few lists hold: padded alike


def test_few_live_candidates_fall_back_and_still_match(tmp_path: Path) -> None:
    """Nearly everything deleted: most of the `k * replicas` best rows are tombstones, so the
    single path widens its window; the batch sends those queries down that path."""
    x = clustered(2100, d=32)
    base, q = x[:2000], x[2000:]
    ids = np.arange(2000, dtype=np.int64)
    with SpannIndex.build(ids, base, tmp_path / "ix", SpannParams(replicas=2)) as ix:
        keep = np.zeros(2000, dtype=bool)
        keep[::40] = True
        ix.remove(ids[~keep])
        assert_same(ix, q, 10)
        _, i = ix.search(q, 10, device="cpu")
        assert set(i[i >= 0].tolist()) <= set(ids[keep].tolist())


def test_chunks_and_empty_probes(tmp_path: Path) -> None:
    x = clustered(1100, d=32)
    ids = np.arange(1000, dtype=np.int64)
    with SpannIndex.build(ids, x[:1000], tmp_path / "ix") as ix:
        many = np.vstack([x[1000:]] * 3)  # 300 queries: several chunks of the batch path
        assert many.shape[0] > 2 * spann_batch.CHUNK
        assert_same(ix, many, 5)
    with SpannIndex.create(32, tmp_path / "empty") as empty:
        s, i = empty.search(x[:40], 3, device="cpu", threads=2)
        assert (i == -1).all() and np.isneginf(s).all()


def test_fp32_postings_keep_the_loop(tmp_path: Path) -> None:
    x = clustered(1100, d=32)
    ids = np.arange(1000, dtype=np.int64)
    with SpannIndex.build(ids, x[:1000], tmp_path / "ix", SpannParams(dtype="fp32")) as ix:
        assert_same(ix, x[1000:], 10)
