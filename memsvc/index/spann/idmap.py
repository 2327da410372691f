"""External id -> slot lookup that stays small at millions of ids.

A Python dict of 1M ints costs ~100 MB; this keeps two sorted int64 arrays (16 B per id) plus a
small dict of recent changes, folded into the arrays once it grows past a fraction of them."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]

_MIN_DELTA = 4096


class IdMap:
    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.int64)
        self._vals = np.zeros(0, dtype=np.int64)
        # ext id -> slot, or -1 for "removed since the arrays were built".
        self._delta: dict[int, int] = {}

    @classmethod
    def from_slots(cls, slot_ext: I64, slot_alive: npt.NDArray[np.bool_]) -> IdMap:
        self = cls()
        slots = np.flatnonzero(slot_alive).astype(np.int64)
        ext = slot_ext[slots]
        order = np.argsort(ext, kind="stable")
        self._keys, self._vals = ext[order], slots[order]
        if self._keys.size > 1 and (self._keys[1:] == self._keys[:-1]).any():
            raise ValueError("two live slots share one external id")
        return self

    def get(self, ext: I64) -> I64:
        """Slots of `ext` ids, -1 where absent."""
        ext = np.asarray(ext, dtype=np.int64)
        out = np.full(ext.shape, -1, dtype=np.int64)
        if self._keys.size:
            pos = np.minimum(np.searchsorted(self._keys, ext), self._keys.size - 1)
            hit = self._keys[pos] == ext
            out[hit] = self._vals[pos[hit]]
        if self._delta:
            for i, e in enumerate(ext.tolist()):
                v = self._delta.get(e)
                if v is not None:
                    out[i] = v
        return out

    def set(self, ext: I64, slots: I64) -> None:
        for e, s in zip(np.asarray(ext).tolist(), np.asarray(slots).tolist(), strict=True):
            self._delta[int(e)] = int(s)

    def discard(self, ext: I64) -> None:
        for e in np.asarray(ext).tolist():
            self._delta[int(e)] = -1

    def needs_fold(self) -> bool:
        return len(self._delta) > max(_MIN_DELTA, self._keys.size // 8)

    def nbytes(self) -> int:
        return self._keys.nbytes + self._vals.nbytes + 100 * len(self._delta)
