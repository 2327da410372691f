"""CPU search that scans the posting lists where they lie: FAISS reads each probed list's fp16
codes straight from the posting file's mapping, for every query of a batch in one call.

The copying paths (`search.search_loop`, `batch.search_batch_copy`) gather each query's rows
into a buffer before FAISS scores them; on 16 cores that copy, and the Python loop around it,
held the batch to 0.43 x IVF-Flat's throughput (bench/README.md). Here a FAISS
`IndexIVFScalarQuantizer` (fp16, inner product, no residual) is given an `OnDiskInvertedLists`
whose base pointer is the mapping of the posting file and whose per-list table (size,
capacity, byte offset of the codes) mirrors `PostingStore`'s offset table. The pruned probe
lists are the preassigned lists of one `search_preassigned` call (-1 where pruned), which
scans them with FAISS's fp16 SIMD scanner, in C++ with the GIL released, OpenMP over queries.
Labels come back as (list, offset) pairs (`store_pairs`), which the list's slot ids in the
mapping turn into slots; replicas and tombstones are dropped for all queries at once.

Single queries and batches both go through `search`, so a batch returns exactly what its
queries return one by one. Only mmap I/O with fp16 postings qualifies (`scanner` is None
otherwise); pread mode and fp32 postings keep the copying paths."""

from __future__ import annotations

import ctypes
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from memsvc.index.spann.core import Core
from memsvc.index.spann.postings import PostingStore
from memsvc.index.threads import faiss_single_thread

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
Probe = Callable[[Core, F32, int, float], tuple[I64, npt.NDArray[np.bool_]]]

# Queries per thread-pool task: at most _PART (tasks of a few ms), at least _MIN_PART (FAISS's
# call, not Python, dominates a task), about four tasks per thread so that none waits long
# for the last.
_PART = 128
_MIN_PART = 16
_LOW32 = np.int64(0xFFFFFFFF)


def _detach(lists: Any) -> None:
    # ~OnDiskInvertedLists munmaps `ptr`; the mapping belongs to the PostingStore.
    lists.ptr = None


class InPlace:
    """A FAISS IVF whose inverted lists are views of one posting-file mapping."""

    def __init__(self, dim: int, rows: npt.NDArray[np.uint8], nlist: int) -> None:
        self.rows = rows  # holds the mapping open while FAISS points into it
        self.nlist = nlist
        self._quant = faiss.IndexFlatIP(dim)  # never searched: lists are preassigned
        ivf: Any = faiss.IndexIVFScalarQuantizer(
            self._quant,
            dim,
            nlist,
            faiss.ScalarQuantizer.QT_fp16,
            faiss.METRIC_INNER_PRODUCT,
            False,
        )
        ivf.is_trained = True  # fp16 codes need no training
        lists: Any = faiss.OnDiskInvertedLists(nlist, ivf.code_size, "")
        lists.prefetch_nthread = 0
        lists.ptr = faiss.swig_ptr(rows.reshape(-1))
        ivf.replace_invlists(lists, False)
        self.ivf, self.lists = ivf, lists
        weakref.finalize(self, _detach, lists)
        # std::vector<OnDiskOneList>: {size, capacity, offset} as three size_t per list.
        addr = int(lists.lists.data().this)
        self.table = np.ctypeslib.as_array((ctypes.c_uint64 * (3 * nlist)).from_address(addr))
        self.table = self.table.reshape(nlist, 3)
        self.table[:] = 0
        self._seen: tuple[npt.NDArray[np.generic], ...] = ()

    def sync(self, store: PostingStore) -> None:
        """Point the lists at the store's current blocks (a no-op when nothing changed)."""
        n = store.n_lists
        off, cap, cnt = store.offset[:n], store.cap[:n], store.count[:n]
        now: tuple[npt.NDArray[np.generic], ...] = (off, cap, cnt)
        if self._seen and all(np.array_equal(a, b) for a, b in zip(self._seen, now, strict=True)):
            return
        self.table[:n, 0] = cnt
        self.table[:n, 1] = cap
        self.table[:n, 2] = store.codes_offset(off, cap)
        self.table[n:] = 0
        self._seen = tuple(a.copy() for a in now)

    def scan(self, q: F32, assign: I64, width: int) -> tuple[F32, I64]:
        """Best `width` rows per query among its assigned lists: scores and (list << 32 |
        offset) labels, -1 where fewer rows exist."""
        q, assign = np.ascontiguousarray(q), np.ascontiguousarray(assign)
        n = q.shape[0]
        dist = np.empty((n, width), dtype=np.float32)
        lab = np.empty((n, width), dtype=np.int64)
        params = faiss.SearchParametersIVF()
        params.nprobe = assign.shape[1]
        coarse = np.zeros(assign.shape, dtype=np.float32)
        self.ivf.search_preassigned_c(
            n,
            faiss.swig_ptr(q),
            width,
            faiss.swig_ptr(assign),
            faiss.swig_ptr(coarse),
            faiss.swig_ptr(dist),
            faiss.swig_ptr(lab),
            True,
            params,
        )
        return dist, lab


_lock = threading.Lock()
_cache: dict[int, InPlace] = {}


def scanner(core: Core, nprobe: int) -> InPlace | None:
    """The in-place scanner of `core`, synced with its offset table; None where the postings
    are not memory-mapped fp16. Call under the index's read lock."""
    store = core.store
    if store.io != "mmap" or core.params.dtype != "fp16":
        return None
    rows = store.sources(np.zeros(0, dtype=np.int64))[1]
    with _lock:
        sc = _cache.get(id(core))
        if sc is None or sc.rows is not rows or sc.nlist < max(store.n_lists, nprobe):
            if sc is None:
                key = id(core)
                weakref.finalize(core, _cache.pop, key, None)
            nlist = max(64, 2 * store.n_lists, nprobe)
            sc = _cache[id(core)] = InPlace(core.dim, rows, nlist)
        sc.sync(store)
        return sc


def release(core: Core) -> None:
    """Drop `core`'s scanner (and with it this module's hold on the posting file's mapping)."""
    with _lock:
        _cache.pop(id(core), None)


def search(
    core: Core,
    sc: InPlace,
    queries: F32,
    k: int,
    max_probe: int,
    probe_ratio: float,
    threads: int,
    probe: Probe,
) -> tuple[F32, I64]:
    """Top-k (scores, ids) per query. `threads` > 1: parts of the batch on a thread pool, each
    FAISS call single-threaded; one thread: FAISS's OpenMP team (none below 8 queries)."""
    nq = queries.shape[0]
    q = np.ascontiguousarray(queries, dtype=np.float32)
    out_s = np.full((nq, k), -np.inf, dtype=np.float32)
    out_i = np.full((nq, k), -1, dtype=np.int64)

    def run(a: int, b: int) -> None:
        out_s[a:b], out_i[a:b] = _part(core, sc, q[a:b], k, max_probe, probe_ratio, probe)

    if threads > 1 and nq > 1:
        step = min(_PART, max(_MIN_PART, -(-nq // (4 * threads))))
        bounds = [(s, min(nq, s + step)) for s in range(0, nq, step)]

        def task(ab: tuple[int, int]) -> None:
            with faiss_single_thread():
                run(*ab)

        with ThreadPoolExecutor(min(threads, len(bounds))) as pool:
            list(pool.map(task, bounds))
        return out_s, out_i
    with faiss_single_thread() if nq < 8 else nullcontext():
        run(0, nq)
    return out_s, out_i


def _part(
    core: Core, sc: InPlace, q: F32, k: int, max_probe: int, probe_ratio: float, probe: Probe
) -> tuple[F32, I64]:
    cand, keep = probe(core, q, max_probe, probe_ratio)
    assign = np.where(keep, cand, -1).astype(np.int64)
    rows = np.where(keep, core.store.count[np.maximum(cand, 0)], 0).sum(axis=1)
    # The window depends on the query alone (not on the rest of its batch), so a query gets
    # the same candidates in any batch: k * replicas rows, then 4x wider while dedupe leaves
    # fewer than k distinct live slots and rows were cut off.
    width = k * core.params.replicas
    out_s, out_i, short = _topk(core, sc, q, assign, k, width)
    todo = np.flatnonzero(short & (rows > width))
    while todo.size:
        width *= 4
        s, i, short = _topk(core, sc, q[todo], assign[todo], k, width)
        out_s[todo], out_i[todo] = s, i
        todo = todo[short & (rows[todo] > width)]
    return out_s, out_i


def _topk(
    core: Core, sc: InPlace, q: F32, assign: I64, k: int, width: int
) -> tuple[F32, I64, npt.NDArray[np.bool_]]:
    """Best k distinct live slots per query from its best `width` rows, and which queries
    found fewer than k."""
    d, lab = sc.scan(q, assign, width)
    got = lab >= 0
    lst = np.where(got, lab >> 32, 0)
    pos = core.store.offset[lst] // 4 + (lab & _LOW32)
    ids = core.store.sources(np.zeros(0, dtype=np.int64))[0]
    sl = np.where(got, ids[np.where(got, pos, 0)], -1).astype(np.int64)
    return dedupe(core, d, sl, got, k)


def dedupe(
    core: Core, d: F32, sl: I64, got: npt.NDArray[np.bool_], k: int
) -> tuple[F32, I64, npt.NDArray[np.bool_]]:
    """`scan.topk_unique` for a batch: per row of scores `d` and slots `sl` (where `got`), the
    best k distinct live slots' (scores, ids), best score first, ties by slot; and which rows
    found fewer than k."""
    b = d.shape[0]
    out_s = np.full((b, k), -np.inf, dtype=np.float32)
    out_i = np.full((b, k), -1, dtype=np.int64)
    live = got & core.slot_alive[np.maximum(sl, 0)]
    s_key = np.where(live, d, -np.inf).astype(np.float32)
    sl_key = np.where(live, sl, np.iinfo(np.int64).max)
    order = np.lexsort((sl_key, -s_key), axis=1)
    s_sorted = np.take_along_axis(s_key, order, 1)
    sl_sorted = np.take_along_axis(sl_key, order, 1)
    ok = np.take_along_axis(live, order, 1)
    # First occurrence of each slot in that order: sorted by slot (stable), a slot's first
    # entry is its best-scored one.
    by_slot = np.argsort(sl_sorted, axis=1, kind="stable")
    grouped = np.take_along_axis(sl_sorted, by_slot, 1)
    lead = np.ones_like(ok)
    lead[:, 1:] = grouped[:, 1:] != grouped[:, :-1]
    fresh = np.zeros_like(ok)
    np.put_along_axis(fresh, by_slot, lead, 1)
    take = ok & fresh
    rank = np.cumsum(take, axis=1)
    sel = take & (rank <= k)
    r, c = np.nonzero(sel)
    out_s[r, rank[r, c] - 1] = s_sorted[r, c]
    out_i[r, rank[r, c] - 1] = core.slot_ext[sl_sorted[r, c]]
    return out_s, out_i, rank[:, -1] < k
