"""A write's new notes: built and bound before the database's write lock, inserted under it.

Why bound first: on SQLite every writer waits while one holds the write lock, and the new
notes' INSERT through the unit of work was a quarter of that hold (bench/README.md,
2026-12-07 sixth). `NewNotes.bind` turns a note's row into driver parameters before the
transaction's first statement (`memsvc.db.prebound`); `NewNotes.insert`, under the lock,
inserts them in one statement, learns their keys and attaches the notes to the session as
stored rows, so later changes in the same transaction are flushed as UPDATEs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached

from memsvc.db import prebound
from memsvc.db.models import Note, new_uuid
from memsvc.services.planning import Unit
from memsvc.services.rows import values
from memsvc.services.scope import Scope

K = TypeVar("K")

_PKS = select(Note.id, Note.pk).where(Note.id.in_(bindparam("ids", expanding=True)))


def chunks(keys: list[K], size: int = 500) -> list[list[K]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def new_note(scope: Scope, unit: Unit, meta: dict[str, Any], model: str, now: datetime) -> Note:
    assert unit.vector is not None
    return Note(
        # Set here, not by the column default at flush: a note superseded within the same add
        # points at this id before the batch is flushed.
        id=new_uuid(),
        **scope.columns(),
        kind=unit.kind,
        role=unit.role,
        content=unit.content,
        content_hash=unit.content_hash,
        search_text=unit.key(),
        keywords=unit.keywords,
        tags=unit.tags,
        context=unit.context,
        facts=unit.facts,
        slots=unit.slots,
        meta=dict(meta),
        episode_ids=list(unit.episode_ids),
        embedding=np.asarray(unit.vector, dtype=np.float32).tobytes(),
        part_texts=list(unit.parts),
        part_embeddings=(
            np.asarray(unit.part_vectors, dtype=np.float32).tobytes()
            if unit.part_vectors is not None
            else None
        ),
        embed_model=model,
        embed_dim=int(unit.vector.shape[0]),
        event_time=unit.event_time,
        valid_from=unit.event_time,
        # Every column set, none left to a default: the row is bound before the write
        # (`NewNotes.bind`), and a stored note with an unset attribute would be read back.
        valid_to=None,
        superseded_by=None,
        status="active",
        enrichment=unit.enrichment,
        strength=1.0,
        last_recalled_at=unit.event_time,
        recall_count=0,
        created_at=now,
        updated_at=now,
    )


class NewNotes:
    def __init__(self, session: Session) -> None:
        self.session = session
        # Note id -> its row's values when bound, and the driver parameters.
        self._bound: dict[str, tuple[dict[str, Any], Any]] = {}

    def bind(self, note: Note) -> None:
        """Make `note`'s row ready for `insert` (before the write lock)."""
        row = values(note)
        binder = prebound.binder(self.session.get_bind().dialect, Note, tuple(row))
        self._bound[note.id] = (row, binder.row(row))

    def insert(self, notes: list[Note]) -> None:
        """Insert `notes` with the parameters `bind` made (a note changed since, by a merge
        into it or a supersession within this add, is bound again), learn their keys
        (returned by SQLite's INSERT, read back by id elsewhere), and attach them to the
        session as stored rows."""
        if not notes:
            return
        rows = [values(note) for note in notes]
        binder = prebound.binder(self.session.get_bind().dialect, Note, tuple(rows[0]))
        params = []
        for note, row in zip(notes, rows, strict=True):
            kept = self._bound.pop(note.id, None)
            # Equal values: the writer replaces a column's value, never mutates it in place
            # (as SQLAlchemy's tracking of JSON columns requires too), so a kept row that
            # compares equal is what the note holds now.
            params.append(kept[1] if kept is not None and kept[0] == row else binder.row(row))
        returned = prebound.insert_bound(self.session, binder, params, returning=("id", "pk"))
        keys: dict[str, int] = {}
        if returned is not None:  # SQLite: the keys came back with the INSERT
            keys.update((note_id, pk) for note_id, pk in returned)
        else:
            for chunk in chunks([n.id for n in notes]):
                found = self.session.execute(_PKS, {"ids": chunk})
                keys.update((note_id, pk) for note_id, pk in found)
        for note in notes:
            note.pk = keys[note.id]
            make_transient_to_detached(note)
        self.session.add_all(notes)
