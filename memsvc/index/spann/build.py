"""Bulk build: balanced hierarchical clustering picks the heads, every vector is replicated to up
to `replicas` lists by the RNG rule, over-long lists are truncated (keeping every vector's
nearest-head entry), and lists are written to the posting file in head order."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from memsvc.index.spann.assign import truncate_lists
from memsvc.index.spann.core import Core, new_heads
from memsvc.index.spann.kmeans import hierarchical_centroids, unit_rows
from memsvc.index.spann.scan import encode
from memsvc.index.spann.updates import assign, drain

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

# Entries whose codes are gathered at once while writing lists (bounds build memory).
_WRITE_BATCH = 262_144


def bulk_load(core: Core, ext: I64, vecs: F32) -> None:
    """Fill an empty `core` with `vecs` under ids `ext`."""
    if core.n_slots or len(core.heads):
        raise ValueError("bulk_load needs an empty index")
    n = vecs.shape[0]
    if n == 0:
        return
    p = core.params
    cent = hierarchical_centroids(
        vecs,
        max(1, round(n * p.head_ratio)),
        branch=p.kmeans_branch,
        iters=p.kmeans_iters,
        weight=p.balance_weight,
        seed=p.seed,
    )
    if p.unit_heads:
        cent = unit_rows(cent)
    core.heads = new_heads(p, core.dim, cent.shape[0])
    core.heads.add(cent)
    core.store.ensure_lists(len(core.heads))
    slots = core.alloc_slots(ext)
    chosen, dist = assign(core, vecs)
    rows, cols = np.nonzero(chosen >= 0)
    lists = chosen[rows, cols]
    keep = truncate_lists(lists, dist[rows, cols], cols == 0, p.posting_size)
    rows, lists = rows[keep], lists[keep]
    order = np.lexsort((rows, lists))
    rows, lists = rows[order], lists[order]
    bounds = np.flatnonzero(np.r_[True, lists[1:] != lists[:-1], True])
    starts, ends = bounds[:-1], bounds[1:]
    lo = 0
    while lo < starts.size:
        # Group whole lists until about _WRITE_BATCH entries, gather their codes once.
        hi = int(np.searchsorted(starts, starts[lo] + _WRITE_BATCH, side="right"))
        hi = max(hi, lo + 1)
        a, b = int(starts[lo]), int(ends[hi - 1])
        codes = encode(vecs[rows[a:b]], p.dtype)
        ids32 = slots[rows[a:b]].astype(np.int32)
        for s, e in zip(starts[lo:hi].tolist(), ends[lo:hi].tolist(), strict=True):
            m = e - s
            core.store.write_list(
                int(lists[s]), ids32[s - a : e - a], codes[s - a : e - a], room=max(2, m // 4)
            )
        lo = hi
    counts = core.store.count[: len(core.heads)]
    empty = np.flatnonzero(counts == 0)
    if empty.size and empty.size < len(core.heads):
        core.heads.kill(empty)
    drain(core, np.flatnonzero(counts > p.posting_size).tolist())
