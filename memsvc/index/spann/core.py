"""The in-memory state of one SPANN index, shared by build, search, updates and storage.

Vectors live in *slots*: an upsert or a reassignment gives the vector a fresh slot and kills the
old one, so every stale replica in any posting list becomes garbage at once (SPFresh's version
map, with the version folded into the slot number). Postings store slots; ``slot_ext`` maps a
slot back to the caller's id and ``slot_alive`` is the tombstone bitmap."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from memsvc.index.spann.heads import HeadIndex
from memsvc.index.spann.idmap import IdMap
from memsvc.index.spann.params import SpannParams
from memsvc.index.spann.postings import PostingStore
from memsvc.index.spann.rwlock import RWLock

I64 = npt.NDArray[np.int64]


def head_kind(params: SpannParams, n_heads: int) -> str:
    if params.head_index != "auto":
        return params.head_index
    return "hnsw" if n_heads >= params.hnsw_threshold else "flat"


def new_heads(params: SpannParams, dim: int, n_heads: int) -> HeadIndex:
    return HeadIndex(
        dim,
        head_kind(params, n_heads),
        m=params.hnsw_m,
        ef_construction=params.hnsw_ef_construction,
    )


@dataclass
class Core:
    dim: int
    params: SpannParams
    store: PostingStore
    heads: HeadIndex
    slot_ext: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    slot_alive: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    n_slots: int = 0
    n_live: int = 0
    idmap: IdMap = field(default_factory=IdMap)
    # Readers (searches) vs the one active mutation; `writer` serialises mutations, including
    # long ones (compaction) that only take `rw` for their final swap.
    rw: RWLock = field(default_factory=RWLock)
    writer: threading.RLock = field(default_factory=threading.RLock)
    # Bumped by every mutation, so derived copies (the GPU mirror) know they are stale.
    version: int = 0

    @property
    def row_bytes(self) -> int:
        return self.dim * self.params.itemsize

    def alloc_slots(self, ext: I64) -> I64:
        """Fresh live slots for `ext` ids (the id map now points at them)."""
        n = int(ext.shape[0])
        start, end = self.n_slots, self.n_slots + n
        if end > np.iinfo(np.int32).max:
            raise OverflowError("slot space exhausted: compact the index")
        if end > self.slot_ext.size:
            size = max(end, 2 * self.slot_ext.size, 1024)
            ext_arr = np.zeros(size, dtype=np.int64)
            ext_arr[: self.n_slots] = self.slot_ext[: self.n_slots]
            alive = np.zeros(size, dtype=np.bool_)
            alive[: self.n_slots] = self.slot_alive[: self.n_slots]
            self.slot_ext, self.slot_alive = ext_arr, alive
        slots = np.arange(start, end, dtype=np.int64)
        self.slot_ext[start:end] = ext
        self.slot_alive[start:end] = True
        self.n_slots = end
        self.n_live += n
        self.idmap.set(ext, slots)
        self._maybe_fold()
        return slots

    def kill_slots(self, slots: I64) -> None:
        """Tombstone `slots` (their ids stay mapped until reassigned or forgotten)."""
        slots = slots[self.slot_alive[slots]]
        self.slot_alive[slots] = False
        self.n_live -= int(np.unique(slots).size)

    def forget(self, ext: I64) -> None:
        self.idmap.discard(ext)
        self._maybe_fold()

    def _maybe_fold(self) -> None:
        if self.idmap.needs_fold():
            self.idmap = IdMap.from_slots(
                self.slot_ext[: self.n_slots], self.slot_alive[: self.n_slots]
            )

    def live_ids(self) -> I64:
        return self.slot_ext[: self.n_slots][self.slot_alive[: self.n_slots]].copy()

    def ram_bytes(self) -> int:
        """What the index itself keeps in RAM (posting lists excluded: they stay on disk)."""
        return (
            self.heads.nbytes()
            + self.store.table_nbytes()
            + self.slot_ext.nbytes
            + self.slot_alive.nbytes
            + self.idmap.nbytes()
        )
