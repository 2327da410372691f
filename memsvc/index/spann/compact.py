"""Compaction: merge tiny lists, then rewrite live data into a new generation (a fresh posting
file, dense slots, only live heads, a rebuilt head index). The rewrite reads the old files
while searches go on; the caller swaps the result in under the write lock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from memsvc.index.spann.core import Core, new_heads
from memsvc.index.spann.idmap import IdMap
from memsvc.index.spann.postings import PostingStore
from memsvc.index.spann.updates import drain, live_entries, merge


def live_counts(core: Core) -> npt.NDArray[np.int64]:
    """Live (not tombstoned) entries per list; reads only the slot ids."""
    n = len(core.heads)
    out = np.zeros(n, dtype=np.int64)
    lists = np.flatnonzero(core.heads.alive & (core.store.count[:n] > 0))
    for s in range(0, lists.size, 2048):
        chunk = lists[s : s + 2048]
        slots, _, counts = core.store.read(chunk)
        live = core.slot_alive[slots].astype(np.int64)
        # Every chunk list has count > 0, so no reduceat segment is empty.
        out[chunk] = np.add.reduceat(live, np.r_[0, np.cumsum(counts)[:-1]])
    return out


def merge_small(core: Core, counts: npt.NDArray[np.int64]) -> int:
    """Merge lists with fewer than `merge_size` live entries (`counts`, from `live_counts`)
    into their neighbours, under the write lock; returns how many were merged."""
    if core.params.merge_size <= 0:
        return 0
    small = np.flatnonzero(core.heads.alive & (counts < core.params.merge_size))
    merged = 0
    for lst in small.tolist():
        if core.heads.n_alive <= 1:
            break
        drain(core, merge(core, lst))
        merged += 1
    return merged


def rewrite(core: Core, postings: Path) -> Core:
    """A compacted copy of `core` whose postings go to the new file `postings`."""
    p = core.params
    alive_heads = np.flatnonzero(core.heads.alive)
    n_slots = core.n_slots
    alive = core.slot_alive[:n_slots]
    remap = np.cumsum(alive, dtype=np.int64) - 1
    store = PostingStore(postings, row_bytes=core.row_bytes, page=p.page_size, io=p.io, create=True)
    try:
        heads = new_heads(p, core.dim, alive_heads.size)
        heads.add(core.heads.vectors()[alive_heads].copy())
        store.ensure_lists(alive_heads.size)
        for new_l, old_l in enumerate(alive_heads.tolist()):
            slots, codes = live_entries(core, old_l)
            store.write_list(
                new_l, remap[slots].astype(np.int32), codes, room=max(2, slots.size // 4)
            )
        empty = np.flatnonzero(store.count[: alive_heads.size] == 0)
        if empty.size and empty.size < alive_heads.size:
            heads.kill(empty)
    except BaseException:
        store.close()
        postings.unlink(missing_ok=True)
        raise
    ext = core.slot_ext[:n_slots][alive].copy()
    live = np.ones(ext.size, dtype=np.bool_)
    return Core(
        dim=core.dim,
        params=p,
        store=store,
        heads=heads,
        slot_ext=ext,
        slot_alive=live,
        n_slots=ext.size,
        n_live=ext.size,
        idmap=IdMap.from_slots(ext, live),
        rw=core.rw,
        writer=core.writer,
        version=core.version + 1,
    )
