"""Replicas: how an `IndexRegistry` follows writes that other processes made to the database
(see `memsvc.stores.replicas` for the thread that drives it, `change_log` for the log)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from memsvc.config import Settings
from memsvc.db.engine import Database
from memsvc.db.models import Partition
from memsvc.index.base import FloatArray, VectorIndex
from memsvc.stores import change_log
from memsvc.stores.index_changes import MAX_PARTS, PARTS_SUFFIX, part_ids, split_slot_name


@dataclass
class _Slot:
    index: VectorIndex | None = None
    version: int = -1
    dirty: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    promoting: bool = False


class Following:
    """The replica half of `IndexRegistry`: catching up from the change log."""

    def follow_once(self) -> None:
        """One follower step: catch up every loaded partition another process changed, and
        forget every loaded partition another process erased (its row is gone)."""
        with self._slots_lock:
            held = {split_slot_name(n)[0]: s.version for n, s in self._slots.items() if s.index}
        keys = sorted(held)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            with self.db.read() as session:
                rows = session.execute(
                    select(Partition.key, Partition.version).where(Partition.key.in_(chunk))
                ).all()
            current = {str(k): int(v) for k, v in rows}
            for partition in chunk:
                version = current.get(partition)
                if version is None:
                    if held[partition] > 0:  # it existed when loaded: erased elsewhere
                        self.drop(partition)
                else:
                    self._catch_up(partition, version)

    def _catch_up(self, partition: str, version: int) -> None:
        """Bring both indexes of `partition` to `version` (those already there stay)."""
        key, parts = self._slot(partition), self._slot(partition + PARTS_SUFFIX)
        with key.lock, parts.lock:
            for name, slot in ((partition, key), (partition + PARTS_SUFFIX, parts)):
                # Only forward: the follower's read may predate a commit this process has
                # applied since (new partitions start at a later epoch, so newer is larger).
                if slot.index is not None and slot.version < version:
                    self._catch_up_slot(name, slot, version)

    def _catch_up_slot(self, name: str, slot: _Slot, version: int) -> None:
        patch = self._log_patch(name, slot.version, version)
        if patch is None:  # the log cannot say: rebuild from the notes
            old = slot.index
            slot.index, slot.version, slot.dirty = self._rebuild(name, version), version, False
            _close(old)
            return
        self._apply(name, slot, patch[0], patch[1].ids, patch[1].vecs, version)

    def _log_patch(
        self, name: str, after: int, upto: int
    ) -> tuple[list[int], change_log.Loaded] | None:
        """(ids to remove, vectors to add) that bring slot `name` from `after` to `upto`;
        None when the log cannot say."""
        partition, is_parts = split_slot_name(name)
        with self.db.read() as session:
            touched = change_log.touched_since(session, partition, after, upto)
            if touched is None:
                return None
            loaded = change_log.load_vectors(
                session, partition, touched, parts=is_parts, dim=self.dim
            )
        remove = sorted(touched)
        if is_parts:
            remove = [i for pk in remove for i in part_ids(pk, MAX_PARTS)]
        return remove, loaded

    @staticmethod
    def _patch(index: VectorIndex, remove: list[int], loaded: change_log.Loaded) -> None:
        if remove:
            index.remove(np.asarray(remove, dtype=np.int64))
        if loaded.ids:
            vecs = np.vstack(loaded.vecs).astype(np.float32, copy=False)
            index.add(np.asarray(loaded.ids, dtype=np.int64), vecs)

    def prune_change_log(self) -> int:
        with self.db.write() as session:
            return change_log.prune(session, self.settings.index.change_log_keep_s)

    if TYPE_CHECKING:  # provided by IndexRegistry
        settings: Settings
        db: Database
        dim: int
        _slots: dict[str, _Slot]
        _slots_lock: threading.Lock

        def _slot(self, partition: str) -> _Slot: ...
        def drop(self, partition: str) -> None: ...
        def _rebuild(self, partition: str, version: int) -> VectorIndex: ...
        def _apply(
            self,
            name: str,
            slot: _Slot,
            remove: list[int],
            ids: list[int],
            vecs: list[FloatArray],
            version: int | None,
        ) -> None: ...


def _close(index: VectorIndex | None) -> None:
    close = getattr(index, "close", None)
    if close is not None:
        close()
