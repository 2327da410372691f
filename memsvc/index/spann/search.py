"""CPU search: nearest heads -> query-aware pruning -> read the chosen lists -> exact scores
on the stored codes -> drop tombstones and replicas -> top-k. Runs under the read lock.

Memory-mapped fp16 postings are scanned in place (`inplace.search`: one FAISS call per batch,
no copy of the rows); pread mode and fp32 postings gather each query's rows and score them
one query at a time (`search_loop`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from memsvc.index.spann import inplace
from memsvc.index.spann.core import Core
from memsvc.index.spann.scan import top_candidates, topk_unique
from memsvc.index.threads import faiss_single_thread

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]


def probe(
    core: Core, queries: F32, max_probe: int, probe_ratio: float
) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Candidate lists (n, max_probe) and the mask of those that survive pruning.

    A list is probed while d(q, c) <= probe_ratio * d(q, c_1) (SPANN's query-aware pruning).
    The reference distance is floored at half the second-nearest head's, so a query that
    coincides with a head (d = 0) does not prune every other list away."""
    d2, cand = core.heads.search(queries, max_probe, max(core.params.hnsw_ef_search, max_probe))
    ref = d2[:, 0]
    if d2.shape[1] > 1:
        second = np.where(np.isfinite(d2[:, 1]), d2[:, 1], ref)
        ref = np.maximum(ref, 0.5 * second)
    keep = (cand >= 0) & (d2 <= np.float32(probe_ratio * probe_ratio) * ref[:, None])
    return cand, keep


def search_cpu(
    core: Core, queries: F32, k: int, max_probe: int, probe_ratio: float, threads: int = 1
) -> tuple[F32, I64]:
    """Top-k per query: in place where the postings allow it, else `search_loop`."""
    if core.heads.n_alive > 0 and core.n_live > 0 and queries.shape[0] > 0:
        sc = inplace.scanner(core, max_probe)
        if sc is not None:
            return inplace.search(core, sc, queries, k, max_probe, probe_ratio, threads, probe)
    return search_loop(core, queries, k, max_probe, probe_ratio, threads)


def search_loop(
    core: Core, queries: F32, k: int, max_probe: int, probe_ratio: float, threads: int = 1
) -> tuple[F32, I64]:
    """Top-k per query, each query's rows gathered and scored on their own; with threads > 1
    the batch is split over a thread pool (FAISS and most numpy work release the GIL, so scans
    of different queries overlap)."""
    nq = queries.shape[0]
    if threads > 1 and nq > 1:
        chunk = -(-nq // threads)
        parts = [(s, min(nq, s + chunk)) for s in range(0, nq, chunk)]
        with ThreadPoolExecutor(len(parts)) as pool:
            done = list(
                pool.map(
                    lambda ab: search_loop(core, queries[ab[0] : ab[1]], k, max_probe, probe_ratio),
                    parts,
                )
            )
        return np.vstack([d[0] for d in done]), np.vstack([d[1] for d in done])
    out_s = np.full((nq, k), -np.inf, dtype=np.float32)
    out_i = np.full((nq, k), -1, dtype=np.int64)
    if core.heads.n_alive == 0 or core.n_live == 0:
        return out_s, out_i
    if nq < 8:
        with faiss_single_thread():
            cand, keep = probe(core, queries, max_probe, probe_ratio)
    else:
        cand, keep = probe(core, queries, max_probe, probe_ratio)
    dtype, hint = core.params.dtype, core.params.replicas
    with faiss_single_thread():
        for i in range(nq):
            lists = cand[i][keep[i]]
            if lists.size == 0:
                continue
            slots, codes, _ = core.store.read(lists)
            s, sl = _best(core, queries[i], slots, codes, k, k * hint, dtype)
            ok = sl >= 0
            out_s[i] = s
            out_i[i, ok] = core.slot_ext[sl[ok]]
    return out_s, out_i


def _best(
    core: Core, q: F32, slots: I32, codes: U8, k: int, width: int, dtype: str
) -> tuple[F32, I64]:
    """Top-k distinct live slots among the gathered entries. Replicas and tombstones are
    dropped from the best `width` rows; the window widens only if fewer than k remain."""
    m = slots.shape[0]
    while True:
        scores, pos = top_candidates(q, codes, dtype, width)
        s, sl = topk_unique(scores, slots[pos], core.slot_alive, k, hint=m)
        if sl[-1] >= 0 or width >= m:
            return s, sl
        width *= 4
