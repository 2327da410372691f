"""Balanced k-means and the balanced hierarchical clustering that picks SPANN's heads.

Pure numpy, deterministic for a given seed. Balance comes from a size penalty in the assignment
(as SPTAG's BKT does with its lambda term): every cluster carries a price added to the squared
distance, raised while it holds more than its share and lowered while it holds less, like an
auction for capacity. This keeps posting lists near their target length, which bounds both the
per-list read cost and the tail latency of a query."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

# Training points per centroid: enough for stable centroids, cheap for huge nodes.
_SAMPLE_PER_CENTROID = 128
_ASSIGN_CHUNK = 65_536


def _check_points(x: F32) -> F32:
    if x.ndim != 2 or x.dtype != np.float32:
        raise ValueError(f"expected float32 (n, d) points, got {x.dtype} {x.shape}")
    return np.ascontiguousarray(x)


def sq_dists(x: F32, c: F32) -> F32:
    """Squared L2 distances (n, k), clipped at 0 against rounding."""
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"dimension mismatch: {x.shape} vs {c.shape}")
    xn = np.einsum("ij,ij->i", x, x)
    cn = np.einsum("ij,ij->i", c, c)
    d = xn[:, None] + cn[None, :] - 2.0 * (x @ c.T)
    out: F32 = np.maximum(d, 0.0, out=d).astype(np.float32, copy=False)
    return out


def unit_rows(x: F32) -> F32:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: F32 = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def balanced_assign(d: F32, weight: float, rounds: int = 6) -> I64:
    """Cluster labels from distances `d` (n, k) with a capacity price per cluster.

    The price step is a fraction of the typical gap between a point's best and second-best
    cluster, so only boundary points move; weight 0 gives plain nearest-centroid labels."""
    n, k = d.shape
    labels = d.argmin(axis=1)
    if weight <= 0.0 or k < 2 or n <= k:
        plain: I64 = labels.astype(np.int64)
        return plain
    part = np.partition(d, 1, axis=1)
    gap = float(np.median(part[:, 1] - part[:, 0])) + 1e-12
    target = n / k
    price = np.zeros(k, dtype=np.float32)
    for _ in range(rounds):
        counts = np.bincount(labels, minlength=k).astype(np.float32)
        excess = counts / target - 1.0
        if float(np.abs(excess).max()) < 0.25:
            break
        price = np.maximum(price + weight * gap * excess, 0.0).astype(np.float32)
        labels = (d + price[None, :]).argmin(axis=1)
    out: I64 = labels.astype(np.int64)
    return out


def _assign_all(x: F32, c: F32, weight: float) -> I64:
    if x.shape[0] <= _ASSIGN_CHUNK:
        return balanced_assign(sq_dists(x, c), weight)
    # Large node: nearest centroid in chunks (memory), then one global balancing pass on the
    # best-two distances is not exact, so keep it simple and unbalanced at this scale: big
    # nodes are split further and the leaves (small) get the balanced assignment.
    out = np.empty(x.shape[0], dtype=np.int64)
    for s in range(0, x.shape[0], _ASSIGN_CHUNK):
        out[s : s + _ASSIGN_CHUNK] = sq_dists(x[s : s + _ASSIGN_CHUNK], c).argmin(axis=1)
    return out


def _means(x: F32, labels: I64, k: int) -> tuple[F32, npt.NDArray[np.int64]]:
    counts = np.bincount(labels, minlength=k)
    sums = np.zeros((k, x.shape[1]), dtype=np.float64)
    # Sorted segment sums (np.add.at is orders of magnitude slower); chunked to bound memory.
    for s in range(0, x.shape[0], _ASSIGN_CHUNK):
        lab = labels[s : s + _ASSIGN_CHUNK]
        order = np.argsort(lab, kind="stable")
        sl = lab[order]
        starts = np.flatnonzero(np.r_[True, sl[1:] != sl[:-1]])
        sums[sl[starts]] += np.add.reduceat(x[s : s + _ASSIGN_CHUNK][order], starts, axis=0)
    cent = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
    return cent, counts


def balanced_kmeans(
    x: F32, k: int, *, iters: int, weight: float, rng: np.random.Generator
) -> tuple[F32, I64]:
    """Centroids (k, d) and labels (n,) of a size-balanced k-means over `x`."""
    x = _check_points(x)
    n = x.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"cannot make {k} clusters of {n} points")
    train = x
    if n > k * _SAMPLE_PER_CENTROID:
        train = x[np.sort(rng.choice(n, k * _SAMPLE_PER_CENTROID, replace=False))]
    cent = train[rng.choice(train.shape[0], k, replace=False)].copy()
    for _ in range(iters):
        labels = balanced_assign(sq_dists(train, cent), weight)
        new, counts = _means(train, labels, k)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            # Re-seed empty clusters on random points so k stays k.
            new[empty] = train[rng.choice(train.shape[0], empty.size, replace=False)]
        cent = new
    labels = _assign_all(x, cent, weight)
    cent, counts = _means(x, labels, k)
    keep = counts > 0
    if not keep.all():
        remap = np.cumsum(keep) - 1
        cent, labels = cent[keep], remap[labels]
    return cent, labels.astype(np.int64)


def hierarchical_centroids(
    x: F32, n_leaves: int, *, branch: int, iters: int, weight: float, seed: int
) -> F32:
    """About `n_leaves` balanced leaf centroids of `x`, by recursive balanced k-means.

    Each node is split into b children where b is chosen so that the tree below it has about
    equal fan-out at every level (b = ceil(m ** (1/depth)) for m wanted leaves); a node's
    leaves are shared among children in proportion to their sizes."""
    x = _check_points(x)
    n = x.shape[0]
    if n == 0:
        return np.zeros((0, x.shape[1]), dtype=np.float32)
    n_leaves = max(1, min(int(n_leaves), n))
    rng = np.random.default_rng(seed)
    out: list[F32] = []
    stack: list[tuple[I64, int]] = [(np.arange(n, dtype=np.int64), n_leaves)]
    while stack:
        idx, m = stack.pop()
        m = min(m, idx.size)
        if m <= 1:
            out.append(x[idx].mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32))
            continue
        depth = max(1, math.ceil(math.log(m) / math.log(branch)))
        b = m if depth == 1 else min(branch, math.ceil(m ** (1.0 / depth)))
        cent, labels = balanced_kmeans(x[idx], b, iters=iters, weight=weight, rng=rng)
        if b == m:
            out.append(cent)
            continue
        sizes = np.bincount(labels, minlength=cent.shape[0])
        order = np.argsort(labels, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        for j in range(cent.shape[0]):
            child = idx[order[bounds[j] : bounds[j + 1]]]
            share = max(1, round(m * sizes[j] / idx.size))
            stack.append((child, share))
    return np.ascontiguousarray(np.concatenate(out, axis=0), dtype=np.float32)
