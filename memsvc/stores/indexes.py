"""Two vector indexes per partition, derived from the database and kept in step with it:
the *key* index (one vector per note: its merged A-MEM key) and the *parts* index (one vector
per sentence-level part of a note, id ``pk << PART_BITS | j``), so recall can score a long
round on its best-matching sentence. Planning (merge, links) uses the key index alone.

Every index-affecting write bumps `partitions.version` in the same transaction; the in-memory
index applies the change after the commit, under the partition's write lock, and its saved
folder records the version it reflects. At load, a folder whose version differs from the
database's (a crash between commit and save, a copied database, ...) is rebuilt from the
`notes` table, so the index can always be thrown away.

Several processes (replicas) may share one database: each bump also logs what it changed
(`change_log`), and a follower thread (`replicas`) brings indexes that another process made
stale up to date from that log. The folders, `state.json` and the rebuild from the database
are in `index_build`; the catching up in `index_follow`.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from memsvc.config import Settings
from memsvc.db.base import UTCDateTime
from memsvc.db.engine import Database
from memsvc.db.models import Partition
from memsvc.index.base import Compactable, FloatArray, IdArray, IndexError_, VectorIndex
from memsvc.index.factory import load_index
from memsvc.stores import change_log, replicas
from memsvc.stores.index_build import (
    kind_for,
    read_state,
    rebuild,
    saved_dir,
    slot_folder,
    write_state,
)
from memsvc.stores.index_changes import (
    MAX_PARTS,
    PARTS_SUFFIX,
    PendingChanges,
    part_ids,
    split_part_ids,
    split_slot_name,
)
from memsvc.stores.index_follow import Following, _close, _Slot

log = logging.getLogger(__name__)


# Built once: an add runs these under SQLite's write lock, where building a statement each
# time cost about 90 µs, as much as running it (bench/README.md, 2026-12-07 sixth).
_FIRST = {
    name: make(Partition)
    .values(key=bindparam("p_key"), namespace=bindparam("p_namespace"), version=bindparam("v0"))
    .on_conflict_do_nothing()
    for name, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_BUMP = update(Partition).where(Partition.key == bindparam("p_key"))
_NEXT = _BUMP.values(version=Partition.version + 1).returning(Partition.version)
_clock = bindparam("p_clock", type_=UTCDateTime())
# The clock only moves forward (`memsvc.stores.clock.advance`, in the same statement).
_NEXT_AND_CLOCK = _BUMP.values(
    version=Partition.version + 1,
    clock=case(
        (or_(Partition.clock.is_(None), Partition.clock < _clock), _clock),
        else_=Partition.clock,
    ),
).returning(Partition.version)


def bump_version(
    session: Session, partition: str, namespace: str, *, clock: datetime | None = None
) -> int:
    """Increment the partition's version inside the caller's transaction; returns the new one.
    With `clock`, also move the partition's clock forward to it (`memsvc.stores.clock`).

    A new partition row starts at the wall clock in microseconds, not 0: a partition erased
    and written again never repeats a version another replica still holds in memory. Two
    replicas creating the same partition at once both succeed (insert-or-nothing)."""
    conn = session.connection()
    first = _FIRST.get(conn.dialect.name)
    v0 = time.time_ns() // 1000
    if first is not None:
        conn.execute(first, {"p_key": partition, "p_namespace": namespace, "v0": v0})
    elif session.get(Partition, partition, with_for_update=True) is None:
        session.add(Partition(key=partition, namespace=namespace, version=v0))
        session.flush()
    params: dict[str, object] = {"p_key": partition}
    if clock is not None:
        params["p_clock"] = clock
    version = conn.execute(_NEXT if clock is None else _NEXT_AND_CLOCK, params).scalar_one()
    change_log.register(session, partition, int(version))
    return int(version)


class IndexRegistry(Following):
    """Every partition's two indexes in memory (loaded on first use), their write locks, the
    switch between flat and SPANN as a partition grows or shrinks, and saving them."""

    def __init__(self, settings: Settings, db: Database, dim: int) -> None:
        self.settings = settings
        self.db = db
        self.dim = dim
        self.root = settings.index_path
        self.root.mkdir(parents=True, exist_ok=True)
        self._slots: dict[str, _Slot] = {}
        self._slots_lock = threading.Lock()
        self._follower: replicas.Follower | None = None
        # Compactions done by the periodic save and their seconds, for /metrics.
        self.compactions = 0
        self.compaction_s = 0.0
        if settings.index.follow_interval_s > 0:
            self._follower = replicas.Follower(self, settings.index.follow_interval_s)
            self._follower.start()

    # -- folders --------------------------------------------------------------------------
    def folder(self, name: str) -> Path:
        return slot_folder(self.root, name)

    def _slot(self, partition: str) -> _Slot:
        with self._slots_lock:
            slot = self._slots.get(partition)
            if slot is None:
                slot = self._slots[partition] = _Slot()
            return slot

    # -- reading --------------------------------------------------------------------------
    def search(self, partition: str, query: FloatArray, k: int) -> tuple[FloatArray, IdArray]:
        index = self._ensure(partition)
        return index.search(query.reshape(1, -1), k)

    def search_parts(
        self, partition: str, query: FloatArray, k: int
    ) -> tuple[FloatArray, IdArray, IdArray]:
        """Best parts for one query: (scores, note pks, part numbers), best first."""
        index = self._ensure(partition + PARTS_SUFFIX)
        if index.count() == 0:
            empty = np.zeros(0, dtype=np.int64)
            return np.zeros(0, dtype=np.float32), empty, empty
        scores, ids = index.search(query.reshape(1, -1), k)
        keep = ids[0] >= 0
        pks, parts = split_part_ids(ids[0][keep])
        return scores[0][keep], pks, parts

    def count(self, partition: str) -> int:
        return self._ensure(partition).count()

    def kind(self, partition: str) -> str:
        return self._ensure(partition).kind

    def _ensure(self, partition: str) -> VectorIndex:
        slot = self._slot(partition)
        index = slot.index
        if index is not None:
            return index
        with slot.lock:
            if slot.index is None:
                slot.index, slot.version, slot.dirty = self._load_or_rebuild(partition)
            return slot.index

    def _db_version(self, name: str) -> int:
        partition = split_slot_name(name)[0]
        with self.db.read() as session:
            version = session.scalar(select(Partition.version).where(Partition.key == partition))
        return int(version or 0)

    def _load_or_rebuild(self, partition: str) -> tuple[VectorIndex, int, bool]:
        """(index, version, dirty): the saved folder if it is current, or behind by changes
        the log still holds (a restarted replica: applied on load); else a rebuild."""
        version = self._db_version(partition)
        folder = self.folder(partition)
        try:
            state = read_state(folder)
            saved = state.get("version")
            patch = None
            if state.get("dim") == self.dim and isinstance(saved, int) and saved != version:
                patch = self._log_patch(partition, saved, version)
            if patch is None and (saved != version or state.get("dim") != self.dim):
                raise IndexError_(f"stale: index v{saved} vs database v{version}")
            index = load_index(folder / state["dir"])
            if patch is not None:
                self._patch(index, *patch)
            return index, version, patch is not None
        except FileNotFoundError:
            pass
        except (IndexError_, ValueError, KeyError, OSError) as exc:
            log.warning("rebuilding index for %s from the database: %s", partition, exc)
        return self._rebuild(partition, version), version, False

    def _rebuild(self, name: str, version: int) -> VectorIndex:
        settings, folder = self.settings, self.folder(name)
        return rebuild(name, version, db=self.db, settings=settings, folder=folder, dim=self.dim)

    # -- writing --------------------------------------------------------------------------
    @contextmanager
    def writing(self, partition: str) -> Iterator[PendingChanges]:
        """Serialise writers of one partition across commit + apply; apply only on success.

        Usage: ``with registry.writing(p) as changes: <transaction that fills changes and
        calls bump_version>``; the changes reach the index when the block exits cleanly."""
        slot, parts = self._slot(partition), self._slot(partition + PARTS_SUFFIX)
        self._ensure(partition)
        self._ensure(partition + PARTS_SUFFIX)
        with slot.lock:  # the key slot's lock serialises the partition's writers
            changes = PendingChanges()
            change_log.set_active(partition, changes)
            try:
                yield changes
            except BaseException:
                # If the block committed before failing, the indexes miss that commit: drop
                # the in-memory copies so the next use rebuilds them from the database.
                for s in (slot, parts):
                    with s.lock:
                        if self._db_version(partition) != s.version:
                            _close(s.index)
                            s.index, s.version = None, -1
                raise
            finally:
                change_log.set_active(partition, None)
            version = changes.committed
            behind = [s.version for s in (slot, parts) if s.index is not None]
            if version is not None and any(v != version - 1 for v in behind):
                # Another replica committed in between: the log covers its change and ours.
                self._catch_up(partition, version)
                return
            if changes:
                try:
                    self._apply(
                        partition,
                        slot,
                        changes.remove_ids,
                        changes.upsert_ids,
                        changes.upsert_vecs,
                        version,
                    )
                    self._apply_parts(partition, parts, changes, version)
                except Exception:
                    # Both indexes must reflect the same commit: rebuild both from the database.
                    for s in (slot, parts):
                        with s.lock:
                            _close(s.index)
                            s.index, s.version = None, -1
                    raise
            elif version is not None:  # a bump with nothing to apply
                for s in (slot, parts):
                    with s.lock:
                        if s.index is not None:
                            s.version = version

    def _apply_parts(
        self, partition: str, slot: _Slot, changes: PendingChanges, version: int | None
    ) -> None:
        gone = [*changes.remove_ids, *changes.part_sets]
        remove = [i for pk in gone for i in part_ids(pk, MAX_PARTS)]
        ids = [i for pk, v in changes.part_sets.items() for i in part_ids(pk, len(v))]
        vecs = [v for v in changes.part_sets.values() if len(v)]
        with slot.lock:
            if slot.index is None:  # dropped after a failure: rebuilt on next use
                return
            self._apply(partition + PARTS_SUFFIX, slot, remove, ids, vecs, version)

    def _apply(
        self,
        name: str,
        slot: _Slot,
        remove: list[int],
        ids: list[int],
        vecs: list[FloatArray],
        version: int | None,
    ) -> None:
        index = slot.index
        assert index is not None
        try:
            if remove:
                index.remove(np.asarray(remove, dtype=np.int64))
            if ids:
                stacked = np.vstack(vecs).astype(np.float32, copy=False)
                index.add(np.asarray(ids, dtype=np.int64), stacked)
        except Exception:
            # The database has the truth; drop the in-memory copy so the next use rebuilds it.
            log.exception("index update failed for %s; it will be rebuilt", name)
            _close(slot.index)
            slot.index, slot.version = None, -1
            raise
        slot.version = self._db_version(name) if version is None else version
        slot.dirty = True
        if (
            kind_for(self.settings.index, index.count(), index.kind) != index.kind
            and not slot.promoting
        ):
            self._promote_async(name, slot)

    def _promote_async(self, partition: str, slot: _Slot) -> None:
        slot.promoting = True

        def run() -> None:
            try:
                with slot.lock:
                    old = slot.index
                    slot.index = self._rebuild(partition, slot.version)
                    slot.dirty = False
                    _close(old)
                log.info("partition %s now uses a %s index", partition, slot.index.kind)
            except Exception:
                log.exception("could not switch the index kind of %s", partition)
            finally:
                slot.promoting = False

        threading.Thread(target=run, name=f"index-promote-{partition[:20]}", daemon=True).start()

    # -- persistence ----------------------------------------------------------------------
    def save_dirty(self, compact: bool = True) -> int:
        """Save every changed index, compacting those past `index.compact_garbage` first
        unless `compact` is False (shutdown: a stop must not wait for a compaction)."""
        saved = 0
        with self._slots_lock:
            items = list(self._slots.items())
        for partition, slot in items:
            if not slot.dirty:
                continue
            with slot.lock:
                if slot.index is None or not slot.dirty:
                    continue
                if compact:
                    self._compact(partition, slot.index)
                folder = self.folder(partition)
                sub = saved_dir(folder, slot.index)
                slot.index.save(folder / sub)
                write_state(folder, partition, slot.index, slot.version, sub, self.dim)
                slot.dirty = False
                saved += 1
        return saved

    def _compact(self, name: str, index: VectorIndex) -> None:
        """Compact before saving when garbage passed `index.compact_garbage`: without it a
        SPANN partition's posting file only grows (2,085 MB for 251 MB of live blocks after
        100k notes added 50 at a time; bench/README.md). A failed compaction leaves the index
        as it was."""
        ratio = self.settings.index.compact_garbage
        if ratio >= 1 or not isinstance(index, Compactable):
            return
        started = time.perf_counter()
        try:
            if index.maybe_compact(ratio):
                took = time.perf_counter() - started
                self.compactions += 1
                self.compaction_s += took
                log.info("compacted the %s index of %s in %.2f s", index.kind, name, took)
        except Exception:
            log.exception("could not compact the index of %s; saved as it is", name)

    def drop(self, partition: str) -> None:
        """Forget a partition entirely (user erasure): memory and folder."""
        for name in (partition + PARTS_SUFFIX, partition):
            slot = self._slot(name)
            with slot.lock:
                _close(slot.index)
                slot.index, slot.version, slot.dirty = None, -1, False
                shutil.rmtree(self.folder(name), ignore_errors=True)
            with self._slots_lock:
                self._slots.pop(name, None)

    def loaded(self) -> dict[str, tuple[str, int]]:
        with self._slots_lock:
            return {
                p.replace(PARTS_SUFFIX, "#parts"): (s.index.kind, s.index.count())
                for p, s in self._slots.items()
                if s.index
            }

    def search_many(
        self, partition: str, queries: FloatArray, k: int
    ) -> tuple[FloatArray, IdArray]:
        return self._ensure(partition).search(queries, k)

    def close(self) -> None:
        if self._follower is not None:
            self._follower.stop()
        self.save_dirty(compact=False)
        with self._slots_lock:
            slots = list(self._slots.values())
        for slot in slots:
            with slot.lock:
                _close(slot.index)
                slot.index = None
