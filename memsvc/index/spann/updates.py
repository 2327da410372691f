"""Online updates in the manner of SPFresh (Xu et al., SOSP 2023): inserts append to the nearest
lists, an overflowing list is split with balanced 2-means and only the *boundary* vectors are
reassigned (LIRE), tiny lists are merged into their neighbours. No global rebuild.

All functions mutate `core` and must run under its write lock."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from memsvc.index.spann.assign import rng_assign
from memsvc.index.spann.core import Core
from memsvc.index.spann.kmeans import balanced_kmeans, sq_dists, unit_rows
from memsvc.index.spann.scan import decode, encode

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

_ASSIGN_CHUNK = 32_768


def assign(core: Core, vecs: F32) -> tuple[I64, F32]:
    """Replica heads (n, replicas) and their squared distances for `vecs`, by the RNG rule."""
    p = core.params
    chosen = np.full((vecs.shape[0], p.replicas), -1, dtype=np.int64)
    dists = np.full((vecs.shape[0], p.replicas), np.inf, dtype=np.float32)
    # A zero-copy view into FAISS storage: valid until the next heads.add, so fetched here.
    heads = core.heads.vectors()
    for s in range(0, vecs.shape[0], _ASSIGN_CHUNK):
        d2, cand = core.heads.search(
            vecs[s : s + _ASSIGN_CHUNK], p.replica_candidates, p.hnsw_ef_search
        )
        c, d = rng_assign(
            cand,
            d2,
            heads,
            replicas=p.replicas,
            replica_ratio=p.replica_ratio,
            rng_factor=p.rng_factor,
        )
        chosen[s : s + _ASSIGN_CHUNK], dists[s : s + _ASSIGN_CHUNK] = c, d
    return chosen, dists


def _room(n: int) -> int:
    return max(4, n // 4)


def live_entries(core: Core, lst: int) -> tuple[I64, U8]:
    """Distinct live slots of one list and their codes."""
    slots, codes, _ = core.store.read(np.array([lst], dtype=np.int64))
    keep = np.flatnonzero(core.slot_alive[slots])
    _, first = np.unique(slots[keep], return_index=True)
    keep = keep[np.sort(first)]
    return slots[keep].astype(np.int64), codes[keep]


def place(core: Core, slots: I64, vecs: F32) -> list[int]:
    """Append new slots to their replica lists; returns lists now over the size limit."""
    if slots.size == 0:
        return []
    if core.heads.n_alive == 0:
        # Empty index (or every list merged away): the first vector seeds the first head.
        core.heads.add(vecs[:1])
        core.store.ensure_lists(len(core.heads))
    chosen, _ = assign(core, vecs)
    codes = encode(vecs, core.params.dtype)
    rows, cols = np.nonzero(chosen >= 0)
    lists = chosen[rows, cols]
    order = np.argsort(lists, kind="stable")
    lists, rows = lists[order], rows[order]
    bounds = np.flatnonzero(np.r_[True, lists[1:] != lists[:-1], True])
    core.store.ensure_lists(len(core.heads))
    over: list[int] = []
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        lst = int(lists[a])
        r = rows[a:b]
        _append(core, lst, slots[r].astype(np.int32), codes[r])
        if core.store.count[lst] > core.params.posting_size:
            over.append(lst)
    return over


def _append(core: Core, lst: int, slots: npt.NDArray[np.int32], codes: U8) -> None:
    if core.store.append(lst, slots, codes):
        return
    # Block full: move the list to a fresh block, dropping its dead entries on the way.
    old_slots, old_codes = live_entries(core, lst)
    new_slots = np.concatenate([old_slots.astype(np.int32), slots])
    new_codes = np.concatenate([old_codes, codes])
    core.store.write_list(lst, new_slots, new_codes, room=_room(new_slots.size))


def reassign(core: Core, old_slots: I64, vecs: F32) -> list[int]:
    """Give vectors fresh slots (killing every old replica) and place them again."""
    old_slots, first = np.unique(old_slots, return_index=True)
    vecs = vecs[first]
    live = core.slot_alive[old_slots]
    old_slots, vecs = old_slots[live], vecs[live]
    if old_slots.size == 0:
        return []
    ext = core.slot_ext[old_slots]
    core.kill_slots(old_slots)
    return place(core, core.alloc_slots(ext), vecs)


def split(core: Core, lst: int) -> list[int]:
    """Split list `lst` if its live entries exceed the limit (else just drop its garbage);
    returns lists that overflowed as a consequence."""
    p = core.params
    slots, codes = live_entries(core, lst)
    if slots.size <= p.posting_size:
        core.store.write_list(lst, slots.astype(np.int32), codes, room=_room(slots.size))
        return []
    vecs = decode(codes, core.dim, p.dtype)
    rng = np.random.default_rng(p.seed + lst)
    cent, lab = balanced_kmeans(vecs, 2, iters=p.kmeans_iters, weight=p.balance_weight, rng=rng)
    if cent.shape[0] < 2:
        # All entries identical: no split can shorten this list; keep it long.
        core.store.write_list(lst, slots.astype(np.int32), codes, room=_room(slots.size))
        return []
    if p.unit_heads:
        cent = unit_rows(cent)
    c_old = core.heads.vectors()[lst].copy()
    new_ids = core.heads.add(cent)
    core.store.ensure_lists(len(core.heads))
    over: list[int] = []
    for j, hid in enumerate(new_ids.tolist()):
        m = lab == j
        core.store.write_list(hid, slots[m].astype(np.int32), codes[m], room=_room(int(m.sum())))
        if m.sum() > p.posting_size:
            over.append(hid)
    core.heads.kill(np.array([lst]))
    core.store.clear(lst)
    # LIRE: a member whose new head is farther than the old one may now belong elsewhere ...
    d_new = sq_dists(vecs, cent)
    d_old = sq_dists(vecs, c_old[None, :])[:, 0]
    move = d_new[np.arange(lab.size), lab] > d_old
    re_slots, re_vecs = [slots[move]], [vecs[move]]
    # ... and a vector of a neighbouring list may now be closer to one of the new heads.
    if p.reassign_neighbors:
        _, nb = core.heads.search(c_old[None, :], p.reassign_neighbors + 2, p.hnsw_ef_search)
        heads = core.heads.vectors()
        for n in nb[0].tolist():
            if n < 0 or n in new_ids:
                continue
            ns, nc = live_entries(core, n)
            if ns.size == 0:
                continue
            nv = decode(nc, core.dim, p.dtype)
            d_cur = sq_dists(nv, heads[n : n + 1])[:, 0]
            closer = sq_dists(nv, cent).min(axis=1) < d_cur
            re_slots.append(ns[closer])
            re_vecs.append(nv[closer])
    over += reassign(core, np.concatenate(re_slots), np.concatenate(re_vecs))
    return over


def drain(core: Core, over: list[int]) -> None:
    """Split every listed (and consequently overflowing) list until all fit."""
    limit = core.params.posting_size
    while over:
        lst = over.pop()
        if core.heads.alive[lst] and core.store.count[lst] > limit:
            over.extend(split(core, lst))


def merge(core: Core, lst: int) -> list[int]:
    """Dissolve list `lst` into its neighbours (its vectors are placed again)."""
    if core.heads.n_alive <= 1 or not core.heads.alive[lst]:
        return []
    slots, codes = live_entries(core, lst)
    core.heads.kill(np.array([lst]))
    core.store.clear(lst)
    return reassign(core, slots, decode(codes, core.dim, core.params.dtype))
