"""The in-place scan (`memsvc.index.spann.inplace`: FAISS reads the codes from the posting
file's mapping) returns what the copying loop (`search.search_loop`: rows gathered, then
scored one query at a time) returns: the same ids and bit-identical scores, single queries and
batches, on real MiniLM embeddings, and after inserts that split lists and grow (remap) the
posting file, upserts and deletes, which the scanner must follow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memsvc.index.spann import SpannIndex, SpannParams, inplace
from memsvc.index.spann.search import probe, search_loop
from tests.index.conftest import clustered
from tests.index.realdata import DATA, real_embeddings


def assert_same_as_loop(ix: SpannIndex, q: np.ndarray, k: int, max_probe: int) -> None:
    core = ix._core
    pr = core.params.probe_ratio
    with core.rw.read():
        ref_s, ref_i = search_loop(core, q, k, max_probe, pr)
    assert (ref_i >= 0).any()  # a search that finds nothing would pass vacuously
    for threads in (1, 3):
        s, i = ix.search(q, k, max_probe=max_probe, device="cpu", threads=threads)
        np.testing.assert_array_equal(i, ref_i)
        np.testing.assert_array_equal(s, ref_s)
    for j in (0, q.shape[0] - 1):  # single queries take the same path
        s, i = ix.search(q[j : j + 1], k, max_probe=max_probe, device="cpu")
        np.testing.assert_array_equal(i[0], ref_i[j])
        np.testing.assert_array_equal(s[0], ref_s[j])


@pytest.mark.skipif(not (DATA / "longmemeval").is_dir(), reason=f"no chat data under {DATA}")
def test_inplace_equals_loop_on_real_embeddings(tmp_path: Path) -> None:
    x = real_embeddings(1500)
    base, q = x[:1300], x[1300:]
    ids = np.arange(1300, dtype=np.int64) * 7 + 1
    params = SpannParams(head_index="hnsw")
    with SpannIndex.build(ids, base, tmp_path / "ix", params) as ix:
        assert inplace.scanner(ix._core, 32) is not None
        for mp in (4, 32, 96):
            assert_same_as_loop(ix, q, 10, mp)
        ix.remove(ids[::3])
        assert_same_as_loop(ix, q, 10, 32)


def test_inplace_follows_inserts_splits_and_deletes(tmp_path: Path) -> None:
    x = clustered(4200, d=48, centers=80)
    base, q = x[:4000], x[4000:]
    ids = np.arange(4000, dtype=np.int64)
    params = SpannParams(head_index="hnsw", posting_size=24)
    with SpannIndex.build(ids[:1000], base[:1000], tmp_path / "ix", params) as ix:
        core = ix._core
        assert_same_as_loop(ix, q, 10, 32)  # the scanner now exists and must be kept in sync
        rows_before = core.store.sources(np.zeros(0, dtype=np.int64))[1]
        lists_before = core.store.n_lists
        for s in range(1000, 4000, 500):
            ix.add(ids[s : s + 500], base[s : s + 500])
            assert_same_as_loop(ix, q, 10, 32)
        assert core.store.n_lists > lists_before  # lists were split
        rows_after = core.store.sources(np.zeros(0, dtype=np.int64))[1]
        assert rows_after is not rows_before  # the posting file grew and was mapped again
        sc = inplace.scanner(core, 32)
        assert sc is not None and sc.rows is rows_after
        ix.remove(ids[::5])
        ix.add(ids[:40], base[40:80])  # upserts: old replicas die
        assert_same_as_loop(ix, q, 10, 32)
        assert_same_as_loop(ix, q, 40, 8)  # k past what a few lists hold
        _, i = ix.search(q, 10, device="cpu")
        assert not set(i[i >= 0].tolist()) & set(ids[40::5].tolist())  # deleted, not re-added


def test_inplace_widens_when_most_rows_are_tombstones(tmp_path: Path) -> None:
    x = clustered(2100, d=32)
    base, q = x[:2000], x[2000:]
    ids = np.arange(2000, dtype=np.int64)
    with SpannIndex.build(ids, base, tmp_path / "ix", SpannParams(replicas=2)) as ix:
        keep = np.zeros(2000, dtype=bool)
        keep[::40] = True
        ix.remove(ids[~keep])
        assert_same_as_loop(ix, q, 10, 64)
        core = ix._core
        sc = inplace.scanner(core, 64)
        assert sc is not None
        cand, sel = probe(core, q, 64, core.params.probe_ratio)
        assign = np.where(sel, cand, -1)
        _, narrow, _ = inplace._topk(core, sc, q, assign, 10, 10 * 2)  # the first window only
        _, i = ix.search(q, 10, max_probe=64, device="cpu")
        assert (i >= 0).sum() > (narrow >= 0).sum()  # widening found more live vectors
        assert set(i[i >= 0].tolist()) <= set(ids[keep].tolist())


def test_pread_and_fp32_have_no_scanner(tmp_path: Path) -> None:
    x = clustered(600, d=32)
    ids = np.arange(600, dtype=np.int64)
    for name, params in (("p", SpannParams(io="pread")), ("f", SpannParams(dtype="fp32"))):
        with SpannIndex.build(ids, x, tmp_path / name, params) as ix:
            assert inplace.scanner(ix._core, 16) is None
