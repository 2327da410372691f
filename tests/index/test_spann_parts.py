"""The numeric pieces of the SPANN backend, each checked against a brute-force reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memsvc.index.spann.assign import rng_assign, truncate_lists
from memsvc.index.spann.heads import HeadIndex
from memsvc.index.spann.idmap import IdMap
from memsvc.index.spann.kmeans import balanced_kmeans, hierarchical_centroids, sq_dists
from memsvc.index.spann.params import SpannParams
from memsvc.index.spann.postings import PostingStore
from memsvc.index.spann.scan import encode, scores_one, topk_unique


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def skewed(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Points from a few clusters of very different sizes: plain k-means goes unbalanced here."""
    centers = unit(rng, 5, d) * 3
    which = rng.choice(5, n, p=[0.6, 0.2, 0.1, 0.05, 0.05])
    return (centers[which] + rng.standard_normal((n, d))).astype(np.float32)


def test_params_from_dict_and_validation() -> None:
    p = SpannParams.from_dict({"posting_size": 64, "dtype": "fp32", "max_probe": 16})
    assert (p.posting_size, p.dtype, p.max_probe, p.itemsize) == (64, "fp32", 16, 4)
    assert SpannParams.from_dict(None) == SpannParams()
    with pytest.raises(ValueError):
        SpannParams.from_dict({"no_such_knob": 1})
    with pytest.raises(ValueError):
        SpannParams.from_dict({"replicas": 8, "replica_candidates": 4})


def test_sq_dists_matches_bruteforce() -> None:
    rng = np.random.default_rng(0)
    x, c = (
        rng.standard_normal((50, 7)).astype(np.float32),
        rng.standard_normal((9, 7)).astype(np.float32),
    )
    ref = ((x[:, None, :].astype(np.float64) - c[None]) ** 2).sum(-1)
    np.testing.assert_allclose(sq_dists(x, c), ref, rtol=1e-4, atol=1e-4)


def test_size_penalty_balances_clusters() -> None:
    rng = np.random.default_rng(1)
    x = skewed(rng, 4000, 16)
    _, plain = balanced_kmeans(x, 20, iters=10, weight=0.0, rng=np.random.default_rng(2))
    _, bal = balanced_kmeans(x, 20, iters=10, weight=1.0, rng=np.random.default_rng(2))
    spread = lambda lab: np.bincount(lab).std() / np.bincount(lab).mean()  # noqa: E731
    assert spread(bal) < 0.7 * spread(plain)
    assert np.bincount(bal).max() < 2.5 * 4000 / 20


def test_hierarchical_centroids_count_and_balance() -> None:
    rng = np.random.default_rng(3)
    x = skewed(rng, 6000, 16)
    cent = hierarchical_centroids(x, 600, branch=8, iters=6, weight=1.0, seed=0)
    assert 500 <= cent.shape[0] <= 700
    sizes = np.bincount(sq_dists(x, cent).argmin(1), minlength=cent.shape[0])
    assert np.percentile(sizes, 99) <= 5 * 6000 / cent.shape[0]


def rng_reference(cand, d2, heads, replicas, ratio, factor):  # type: ignore[no-untyped-def]
    out = []
    for c_row, d_row in zip(cand, d2, strict=True):
        chosen = [int(c_row[0])]
        for c, d in zip(c_row[1:], d_row[1:], strict=True):
            if len(chosen) == replicas or d > ratio**2 * d_row[0]:
                break
            dcc = [float(((heads[c] - heads[o]) ** 2).sum()) for o in chosen]
            if not any(factor**2 * x < d for x in dcc):
                chosen.append(int(c))
        out.append(chosen)
    return out


def test_rng_assign_follows_the_rule() -> None:
    rng = np.random.default_rng(4)
    heads, x = unit(rng, 60, 8), unit(rng, 300, 8)
    d2 = sq_dists(x, heads)
    cand = np.argsort(d2, axis=1)[:, :20]
    dc = np.take_along_axis(d2, cand, 1)
    got, got_d = rng_assign(cand, dc, heads, replicas=4, replica_ratio=1.6, rng_factor=1.0)
    ref = rng_reference(cand, dc, heads, 4, 1.6, 1.0)
    for row, want in zip(got, ref, strict=True):
        assert row[row >= 0].tolist() == want
    assert (got[:, 0] == cand[:, 0]).all() and np.isinf(got_d[got < 0]).all()
    # A tiny RNG factor lets every chosen head block the rest; so does a closure ratio of 1.
    only, _ = rng_assign(cand, dc, heads, replicas=4, replica_ratio=3.0, rng_factor=0.01)
    assert (only[:, 1:] == -1).all()
    only, _ = rng_assign(cand, dc, heads, replicas=4, replica_ratio=1.0, rng_factor=100.0)
    assert (only[:, 1:] == -1).all()
    many, _ = rng_assign(cand, dc, heads, replicas=4, replica_ratio=3.0, rng_factor=100.0)
    assert (many >= 0).all()


def test_truncate_lists_keeps_primaries_and_nearest() -> None:
    lists = np.array([0, 0, 0, 0, 1, 1, 0])
    d2 = np.array([0.5, 0.1, 0.9, 0.3, 0.2, 0.1, 0.8], dtype=np.float32)
    primary = np.array([False, False, True, False, True, False, True])
    keep = truncate_lists(lists, d2, primary, limit=3)
    # list 0: primaries (0.9, 0.8) always, then the nearest replica 0.1; list 1 fits.
    assert keep.tolist() == [False, True, True, False, True, True, True]


def test_topk_unique_drops_dead_and_duplicates() -> None:
    scores = np.array([0.9, 0.9, 0.8, 0.7, 0.95, 0.6], dtype=np.float32)
    slots = np.array([3, 3, 1, 2, 4, 5], dtype=np.int32)
    alive = np.array([True, True, True, True, False, True])
    s, i = topk_unique(scores, slots, alive, k=5, hint=1)
    assert i.tolist() == [3, 1, 2, 5, -1]
    np.testing.assert_allclose(s[:4], [0.9, 0.8, 0.7, 0.6])
    assert s[4] == -np.inf


@pytest.mark.parametrize("dtype", ["fp16", "fp32"])
def test_scores_one_matches_numpy(dtype: str) -> None:
    rng = np.random.default_rng(5)
    x, q = unit(rng, 300, 32), unit(rng, 1, 32)[0]
    ref = x.astype(np.float16 if dtype == "fp16" else np.float32).astype(np.float32) @ q
    np.testing.assert_allclose(scores_one(q, encode(x, dtype), dtype), ref, atol=1e-5)


@pytest.mark.parametrize("io", ["mmap", "pread"])
def test_posting_store_append_relocate_and_crc(tmp_path: Path, io: str) -> None:
    rng = np.random.default_rng(6)
    store = PostingStore(tmp_path / "p.bin", row_bytes=48, page=4096, io=io, create=True)
    codes = rng.integers(0, 255, (200, 48), dtype=np.uint8)
    slots = np.arange(200, dtype=np.int32)
    store.write_list(0, slots[:10], codes[:10], room=5)
    store.write_list(1, slots[10:15], codes[10:15])
    assert store.offset[1] % 4096 == 0 and store.cap[0] >= 15
    assert store.append(0, slots[15:17], codes[15:17])
    # One page holds 78 entries of 52 bytes: 5 + 195 do not fit, and nothing is written.
    assert not store.append(1, slots[5:200], codes[5:200])
    got_s, got_c, counts = store.read(np.array([1, 0]))
    assert counts.tolist() == [5, 12]
    assert got_s.tolist() == list(range(10, 15)) + list(range(10)) + [15, 16]
    np.testing.assert_array_equal(got_c[5:], np.concatenate([codes[:10], codes[15:17]]))
    assert store.verify(np.array([0, 1])) == []
    store.close()


def test_head_index_kill_filters_search() -> None:
    rng = np.random.default_rng(8)
    for kind in ("flat", "hnsw"):
        h = HeadIndex(16, kind, m=8)
        vecs = unit(rng, 200, 16)
        h.add(vecs)
        _, i = h.search(vecs[:5], 3)
        assert (i[:, 0] == np.arange(5)).all()
        h.kill(np.arange(5))
        _, i = h.search(vecs[:5], 3)
        assert not np.isin(i, np.arange(5)).any() and h.n_alive == 195


def test_idmap_lookup_update_and_fold() -> None:
    ext = np.array([50, 7, 99, 3], dtype=np.int64)
    alive = np.array([True, True, False, True])
    m = IdMap.from_slots(ext, alive)
    assert m.get(np.array([7, 99, 3, 1000])).tolist() == [1, -1, 3, -1]
    m.set(np.array([99]), np.array([4]))
    m.discard(np.array([7]))
    assert m.get(np.array([7, 99, 50])).tolist() == [-1, 4, 0]
