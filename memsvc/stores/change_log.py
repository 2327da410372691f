"""The index change log: how replicas on one database keep their in-memory indexes in step.

Every `bump_version` (always inside `IndexRegistry.writing`) registers the new version on the
session; just before that session commits, one `index_changes` row is written with the note
pks the writer upserted or removed, so it commits exactly with the notes. Another replica
whose index is at an older version reads the rows after it, re-reads the named notes from
`notes` and upserts or removes them: re-reading the current state makes applying idempotent,
so a replica that reads notes newer than the version it records converges on its next step.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, SessionTransaction

from memsvc.db import prebound
from memsvc.db.models import IndexChange, Note
from memsvc.index.base import FloatArray
from memsvc.stores.index_changes import MAX_PARTS, PendingChanges

_KEY = "memsvc.index_changes"
_active = threading.local()  # partition -> the PendingChanges its writer is filling


def set_active(partition: str, changes: PendingChanges | None) -> None:
    """Called by `IndexRegistry.writing`: the changes `bump_version` will log for `partition`
    on this thread (None when the block ends)."""
    active: dict[str, PendingChanges] = _active.__dict__.setdefault("by_partition", {})
    if changes is None:
        active.pop(partition, None)
    else:
        active[partition] = changes


def register(session: Session, partition: str, version: int) -> None:
    """Log `version` of `partition` when `session` commits (see module docstring)."""
    active: dict[str, PendingChanges] = _active.__dict__.get("by_partition", {})
    pending: list[tuple[str, int, PendingChanges | None]] = session.info.setdefault(_KEY, [])
    pending.append((partition, version, active.get(partition)))


@event.listens_for(Session, "before_commit")
def _write_rows(session: Session) -> None:
    pending = session.info.get(_KEY)
    if not pending:
        return
    rows = []
    for partition, version, changes in pending:
        if changes is None:  # a writer that did not say what changed: replicas rebuild
            rows.append({"partition": partition, "version": version, "upserted": None})
            continue
        upserted = sorted({*changes.upsert_ids, *changes.part_sets})
        rows.append(
            {
                "partition": partition,
                "version": version,
                "upserted": upserted,
                "removed": sorted(set(changes.remove_ids)),
            }
        )
    now = datetime.now(UTC)
    for row in rows:
        row.setdefault("removed", [])
        row["created_at"] = now
    # A driver-level executemany: this runs under SQLite's write lock (`memsvc.db.prebound`).
    prebound.insert_bound(session, *prebound.bind(session.get_bind().dialect, IndexChange, rows))


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    for _partition, version, changes in session.info.pop(_KEY, None) or []:
        if changes is not None:
            changes.committed = max(changes.committed or 0, version)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back or closed: nothing was logged
        session.info.pop(_KEY, None)


def touched_since(session: Session, partition: str, after: int, upto: int) -> set[int] | None:
    """Note pks changed by versions (after, upto]; None when the log cannot say (pruned,
    a partition erased and created again, a writer that logged no pks): rebuild instead."""
    if after < 0 or upto <= after:
        return None
    rows = session.execute(
        select(IndexChange.upserted, IndexChange.removed).where(
            IndexChange.partition == partition,
            IndexChange.version > after,
            IndexChange.version <= upto,
        )
    ).all()
    if len(rows) != upto - after:
        return None
    touched: set[int] = set()
    for upserted, removed in rows:
        if upserted is None:
            return None
        touched.update(int(pk) for pk in upserted)
        touched.update(int(pk) for pk in removed or [])
    return touched


@dataclass
class Loaded:
    """The current vectors of some notes of one partition (absent notes: removed)."""

    ids: list[int]
    vecs: list[FloatArray]


def load_vectors(
    session: Session, partition: str, pks: set[int], *, parts: bool, dim: int
) -> Loaded:
    """Key vectors (ids = pks) or part vectors (ids = part ids) of the notes still present."""
    from memsvc.stores.index_changes import part_ids

    out = Loaded([], [])
    row = dim * 4
    column = Note.part_embeddings if parts else Note.embedding
    ordered = sorted(pks)
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        stmt = select(Note.pk, column).where(
            Note.partition == partition,
            Note.pk.in_(chunk),
            Note.embedding.is_not(None),
            column.is_not(None),
        )
        for pk, blob in session.execute(stmt):
            if not blob or len(blob) % row:
                continue
            if parts:
                n = min(len(blob) // row, MAX_PARTS)
                out.ids.extend(part_ids(int(pk), n))
                out.vecs.append(np.frombuffer(blob[: n * row], np.float32).reshape(n, dim))
            elif len(blob) == row:
                out.ids.append(int(pk))
                out.vecs.append(np.frombuffer(blob, np.float32).reshape(1, dim))
    return out


def prune(session: Session, keep_s: float) -> int:
    """Delete log rows older than `keep_s`; a replica further behind rebuilds instead."""
    cutoff = datetime.now(UTC) - timedelta(seconds=keep_s)
    res = session.execute(delete(IndexChange).where(IndexChange.created_at < cutoff))
    return int(res.rowcount or 0)  # type: ignore[attr-defined]
