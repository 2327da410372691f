"""Codes <-> vectors, exact scoring of gathered posting entries, and top-k with replica dedupe.

fp16 scoring goes through FAISS's SIMD fp16 scalar-quantizer kernels: numpy's float16 -> float32
conversion runs ~2 ns/element here (no F16C), about 10x slower than the whole FAISS scan."""

from __future__ import annotations

import threading
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

_local = threading.local()


def encode(vectors: F32, dtype: str) -> U8:
    """Rows of `vectors` as raw little-endian fp16/fp32 bytes (n, dim * itemsize)."""
    if vectors.ndim != 2:
        raise ValueError(f"expected (n, d) vectors, got {vectors.shape}")
    typ = np.float16 if dtype == "fp16" else np.float32
    arr = np.ascontiguousarray(vectors, dtype=typ)
    return arr.view(np.uint8).reshape(arr.shape[0], -1)


def decode(codes: U8, dim: int, dtype: str) -> F32:
    typ = np.float16 if dtype == "fp16" else np.float32
    return np.ascontiguousarray(codes).view(typ).reshape(-1, dim).astype(np.float32)


def _fp16_index(dim: int) -> Any:
    cache: dict[int, Any] = getattr(_local, "sq", None) or {}
    _local.sq = cache
    index = cache.get(dim)
    if index is None:
        index = faiss.IndexScalarQuantizer(
            dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        cache[dim] = index
    return index


def top_candidates(query: F32, codes: U8, dtype: str, width: int) -> tuple[F32, I64]:
    """The `width` best rows for one query (d,): scores and row positions, best first.

    fp16 rows are scored by FAISS's SIMD fp16 kernel (asking FAISS for every row is slower: its
    top-k heap then costs more than the dot products); fp32 rows by one BLAS mat-vec."""
    dim = query.shape[0]
    m = codes.shape[0]
    width = min(width, m)
    if width <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    if dtype == "fp32":
        scores = codes.view(np.float32).reshape(m, dim) @ query
        part = np.argpartition(-scores, width - 1)[:width] if width < m else np.arange(m)
        order = part[np.argsort(-scores[part], kind="stable")]
        return scores[order], order.astype(np.int64)
    index = _fp16_index(dim)
    faiss.copy_array_to_vector(np.ascontiguousarray(codes).reshape(-1), index.codes)
    index.ntotal = m
    try:
        d, lab = index.search(query.reshape(1, dim), width)
    finally:
        index.ntotal = 0
    return d[0], lab[0]


def scores_one(query: F32, codes: U8, dtype: str) -> F32:
    """Inner products (m,) of one query (d,) with every coded row (unordered)."""
    scores, pos = top_candidates(query, codes, dtype, codes.shape[0])
    out = np.empty(codes.shape[0], dtype=np.float32)
    out[pos] = scores
    return out


def scores_many(queries: F32, codes: U8, dtype: str) -> F32:
    """Inner products (nq, m) of several queries with every coded row."""
    return queries @ decode(codes, queries.shape[1], dtype).T


def topk_unique(
    scores: F32, slots: I32, alive: npt.NDArray[np.bool_], k: int, hint: int = 8
) -> tuple[F32, I64]:
    """Best `k` distinct live slots: scores and slots (k,), best first, padded -inf / -1.

    Replicas of one vector carry equal scores, so only a few times k candidates need sorting;
    `hint` is that factor, widened to everything when dedupe leaves fewer than k."""
    if scores.shape != slots.shape:
        raise ValueError("scores and slots must have the same shape")
    out_s = np.full(k, -np.inf, dtype=np.float32)
    out_i = np.full(k, -1, dtype=np.int64)
    live = np.flatnonzero(alive[slots])
    if live.size == 0:
        return out_s, out_i
    width = min(live.size, k * hint)
    while True:
        if width < live.size:
            part = np.argpartition(-scores[live], width - 1)[:width]
            cand = live[part]
        else:
            cand = live
        s, sl = scores[cand], slots[cand]
        order = np.lexsort((sl, -s))
        sl = sl[order]
        _, first = np.unique(sl, return_index=True)
        first.sort()
        if first.size >= k or width >= live.size:
            take = order[first[:k]]
            n = take.size
            out_s[:n] = s[take]
            out_i[:n] = slots[cand][take]
            return out_s, out_i
        width = live.size
