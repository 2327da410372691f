"""What a transaction changes in a partition's indexes (applied after the commit), and the
packing of part ids: a part of note ``pk`` is ``pk << PART_BITS | j`` in the parts index."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from memsvc.index.base import FloatArray, IdArray
from memsvc.text.parts import MAX_PARTS as TEXT_MAX_PARTS

# Part ids pack (note pk, part number); a note has at most 2**PART_BITS parts.
PART_BITS = 6
MAX_PARTS = 1 << PART_BITS
assert MAX_PARTS == TEXT_MAX_PARTS, "memsvc.text.parts.MAX_PARTS must fit the id packing"
PARTS_SUFFIX = "\x00parts"  # slot-name suffix of a partition's parts index


def split_slot_name(name: str) -> tuple[str, bool]:
    """Slot name -> (partition, is the parts index)."""
    if name.endswith(PARTS_SUFFIX):
        return name[: -len(PARTS_SUFFIX)], True
    return name, False


def part_ids(pk: int, n: int) -> list[int]:
    return [(pk << PART_BITS) | j for j in range(n)]


def split_part_ids(ids: IdArray) -> tuple[IdArray, IdArray]:
    """(note pks, part numbers) of part-index ids."""
    return ids >> PART_BITS, ids & (MAX_PARTS - 1)


@dataclass
class PendingChanges:
    """Index operations collected during a transaction and applied only after it commits."""

    upsert_ids: list[int] = field(default_factory=list)
    upsert_vecs: list[FloatArray] = field(default_factory=list)
    remove_ids: list[int] = field(default_factory=list)
    # note pk -> its part vectors (n, dim); replaces whatever parts the note had.
    part_sets: dict[int, FloatArray] = field(default_factory=dict)
    # The partition version these changes committed as (set by memsvc.stores.change_log
    # when the transaction that bumped it commits); None: nothing committed.
    committed: int | None = None

    def upsert(self, ids: list[int], vectors: FloatArray) -> None:
        self.upsert_ids.extend(ids)
        self.upsert_vecs.append(vectors)

    def set_parts(self, pk: int, vectors: FloatArray | None) -> None:
        """The note's part vectors from now on (None or empty: no parts)."""
        vecs = np.zeros((0, 0), dtype=np.float32) if vectors is None else vectors
        self.part_sets[pk] = vecs[:MAX_PARTS]

    def remove(self, ids: list[int]) -> None:
        """Remove notes: their key vectors and all their parts."""
        self.remove_ids.extend(ids)

    def __bool__(self) -> bool:
        return bool(self.upsert_ids or self.remove_ids or self.part_sets)


__all__ = [
    "MAX_PARTS",
    "PARTS_SUFFIX",
    "PART_BITS",
    "PendingChanges",
    "part_ids",
    "split_part_ids",
    "split_slot_name",
]
