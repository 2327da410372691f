"""Batch CPU search: a whole chunk of queries per FAISS call, so a batch runs in C++ (which
releases the GIL) instead of a Python loop per query.

Memory-mapped fp16 postings are scanned in place (`inplace.search`, the same code as a single
query, so identical to it by construction). Elsewhere (pread mode) `search_batch_copy` runs:

Per chunk of queries: one head search; the probed lists of the whole chunk read once (each
distinct list once, `PostingStore.read`); each query's rows gathered in its own probe order
into one temporary inverted list of a FAISS `IndexIVFScalarQuantizer` (fp16, inner product,
no residual); one `search_preassigned` scans every query's list with FAISS's fp16 SIMD kernel;
replicas and tombstones are dropped for all queries at once in numpy.

Results are identical to the single-query loop (`search.search_loop`), not merely close: FAISS
scores each row with the same fp16 scanner as `scan.top_candidates` (its `IndexScalarQuantizer`
search is that scanner over one list), rows are scanned in the same order and labelled by the
same positions, so the same `k * replicas` candidates survive the heap; the dedupe below is
`scan.topk_unique` in array form; flat head indexes are searched in slices below FAISS's BLAS
threshold, so head distances use the same kernel as a single query. The rare query whose
candidates dedupe to fewer than k while more rows remain goes through the single-query path,
which widens its window. (The dedupe is shared with `inplace._topk`.)"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from memsvc.index.spann import inplace
from memsvc.index.spann.core import Core
from memsvc.index.spann.search import probe, search_loop
from memsvc.index.threads import faiss_single_thread

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

# Queries per FAISS call: large enough to amortise the Python work of a chunk (~30 numpy
# calls), small enough that a chunk's gathered rows (~2,000 rows of 768 bytes per query at
# the default probes) stay in tens of MB per thread.
CHUNK = 32
# FAISS searches a flat index with BLAS from this many queries on (`distance_compute_blas_
# threshold`, 20), whose rounding differs from the one-query kernel; slices stay below it.
_FLAT_SLICE = 16

_local = threading.local()


def search_batch(
    core: Core, queries: F32, k: int, max_probe: int, probe_ratio: float, threads: int = 1
) -> tuple[F32, I64]:
    """Top-k (scores, ids) per query, the same as `search_cpu` query by query: in place where
    the postings allow it (flat heads searched in slices, as below), else `search_batch_copy`."""
    if core.heads.n_alive > 0 and core.n_live > 0 and queries.shape[0] > 0:
        sc = inplace.scanner(core, max_probe)
        if sc is not None:
            return inplace.search(core, sc, queries, k, max_probe, probe_ratio, threads, _probe)
    return search_batch_copy(core, queries, k, max_probe, probe_ratio, threads)


def search_batch_copy(
    core: Core, queries: F32, k: int, max_probe: int, probe_ratio: float, threads: int = 1
) -> tuple[F32, I64]:
    """Top-k (scores, ids) per query, the same as `search_loop` query by query. With threads
    > 1 chunks run on a thread pool, each FAISS call single-threaded; with one thread FAISS
    spreads each call over its OpenMP team."""
    nq = queries.shape[0]
    out_s = np.full((nq, k), -np.inf, dtype=np.float32)
    out_i = np.full((nq, k), -1, dtype=np.int64)
    if core.heads.n_alive == 0 or core.n_live == 0 or nq == 0:
        return out_s, out_i
    if core.params.dtype != "fp16":
        # fp32 rows are scored by numpy in the single-query path; FAISS's fp32 kernels round
        # differently, so these keep the per-query loop (identical by construction).
        return search_loop(core, queries, k, max_probe, probe_ratio, threads)
    chunk = max(1, min(CHUNK, -(-nq // max(1, threads))))
    bounds = [(s, min(nq, s + chunk)) for s in range(0, nq, chunk)]

    def run(ab: tuple[int, int]) -> None:
        a, b = ab
        s, i = _chunk(core, queries[a:b], k, max_probe, probe_ratio)
        out_s[a:b], out_i[a:b] = s, i

    if threads > 1 and len(bounds) > 1:

        def run_single(ab: tuple[int, int]) -> None:
            with faiss_single_thread():
                run(ab)

        with ThreadPoolExecutor(min(threads, len(bounds))) as pool:
            list(pool.map(run_single, bounds))
    elif nq < 8:
        with faiss_single_thread():  # an OpenMP team costs more than a few queries' work
            for ab in bounds:
                run(ab)
    else:
        for ab in bounds:
            run(ab)
    return out_s, out_i


def _probe(core: Core, q: F32, max_probe: int, probe_ratio: float) -> tuple[I64, Any]:
    if core.heads.kind != "flat":
        return probe(core, q, max_probe, probe_ratio)
    with faiss_single_thread():  # an OpenMP team per slice would cost more than its work
        parts = [
            probe(core, q[s : s + _FLAT_SLICE], max_probe, probe_ratio)
            for s in range(0, q.shape[0], _FLAT_SLICE)
        ]
    return np.vstack([c for c, _ in parts]), np.vstack([m for _, m in parts])


def _scanner(dim: int) -> Any:
    """This thread's temporary IVF index (fp16 codes, inner product, no residual) with one
    inverted list per query of a chunk. Kept between chunks: emptied lists keep their
    capacity, so a chunk writes into memory the last one already faulted in."""
    index = getattr(_local, "ivf", None)
    if index is None or index.d != dim:
        quant = faiss.IndexFlatIP(dim)  # never searched (lists are assigned); FAISS keeps a ref
        index = faiss.IndexIVFScalarQuantizer(
            quant, dim, CHUNK, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT, False
        )
        index.is_trained = True  # fp16 codes need no training
        index.nprobe = 1
        _local.ivf = index
    return index


def _chunk(core: Core, q: F32, k: int, max_probe: int, probe_ratio: float) -> tuple[F32, I64]:
    b = q.shape[0]
    out_s = np.full((b, k), -np.inf, dtype=np.float32)
    out_i = np.full((b, k), -1, dtype=np.int64)
    cand, keep = _probe(core, q, max_probe, probe_ratio)
    qi, col = np.nonzero(keep)  # row-major: each query's lists in its probe order
    if qi.size == 0:
        return out_s, out_i
    uniq, inv = np.unique(cand[qi, col], return_inverse=True)
    ids_src, codes_src, id0, code0, counts_u = core.store.sources(uniq)
    cnt = counts_u[inv]
    total = int(cnt.sum())
    if total == 0:
        return out_s, out_i
    # Entry r of pair p (query qi[p], list uniq[inv[p]]) sits at row code0[inv[p]] + r of
    # codes_src and at id0[inv[p]] + r of ids_src; pairs are laid out query after query.
    within = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    code_rows = np.repeat(code0[inv], cnt) + within
    per_q = np.bincount(qi, weights=cnt, minlength=b).astype(np.int64)
    first = np.cumsum(per_q) - per_q
    index = _scanner(q.shape[1])
    lists = index.invlists
    cs = index.code_size
    pos = np.arange(int(per_q.max()), dtype=np.int64)  # labels = positions, as in one query
    # Lists are resized, never emptied: a shrink is free and a growth zero-fills only the new
    # part, so most chunks write their rows without a zeroing pass. Lists of queries without
    # rows keep stale rows but are not assigned, so nothing scans them.
    for j in np.flatnonzero(per_q).tolist():
        a, n = int(first[j]), int(per_q[j])
        lists.resize(j, n)
        dst = faiss.rev_swig_ptr(lists.get_codes(j), n * cs).reshape(n, cs)
        np.take(codes_src, code_rows[a : a + n], axis=0, out=dst, mode="clip")
        faiss.rev_swig_ptr(lists.get_ids(j), n)[:] = pos[:n]
    width = k * core.params.replicas
    assign = np.full((b, 1), -1, dtype=np.int64)
    assign[per_q > 0, 0] = np.flatnonzero(per_q)
    d, lab = index.search_preassigned(q, width, assign, np.zeros((b, 1), dtype=np.float32))

    got = lab >= 0
    at = first[:, None] + np.where(got, lab, 0)
    sl = np.where(got, ids_src[np.repeat(id0[inv], cnt)[at] + within[at]], -1).astype(np.int64)
    out_s, out_i, short = inplace.dedupe(core, d, sl, got, k)
    # Fewer than k distinct live slots although rows were cut off at `width`: the single path
    # widens its window for such a query; run it there.
    for j in np.flatnonzero(short & (per_q > width)).tolist():
        js, ji = search_loop(core, q[j : j + 1], k, max_probe, probe_ratio)
        out_s[j], out_i[j] = js[0], ji[0]
    return out_s, out_i
