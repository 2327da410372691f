"""Candidate rows for recall: the columns filtering and ranking read, as plain rows.

A query gathers a few hundred candidates and returns top_k of them. Building ORM instances
(identity map, attribute state) for every candidate was most of a search's time after the
query embedding, so candidates are fetched as Core rows into a slotted dataclass; only the
returned hits are loaded as whole `Note`s (`recall._full_rows`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from memsvc.db.models import Note


@dataclass(slots=True)
class NoteRow:
    """The part of a note recall filters and ranks on (same attribute names as `Note`)."""

    pk: int
    id: str
    partition: str
    user_id: str | None
    agent_id: str | None
    session_id: str | None
    kind: str
    status: str
    valid_from: datetime
    valid_to: datetime | None
    created_at: datetime
    event_time: datetime
    strength: float
    last_recalled_at: datetime
    meta: dict[str, Any] | None
    embedding: bytes | None = None


_COLUMNS = (
    Note.pk,
    Note.id,
    Note.partition,
    Note.user_id,
    Note.agent_id,
    Note.session_id,
    Note.kind,
    Note.status,
    Note.valid_from,
    Note.valid_to,
    Note.created_at,
    Note.event_time,
    Note.strength,
    Note.last_recalled_at,
    Note.meta,
)


def _select(vector: bool) -> Select[Any]:
    return select(*_COLUMNS, Note.embedding) if vector else select(*_COLUMNS)


def fetch(
    session: Session,
    *where: ColumnElement[bool],
    vector: bool = False,
    order_by: ColumnElement[Any] | None = None,
    limit: int | None = None,
) -> list[NoteRow]:
    """Rows matching `where` (with the key embedding when `vector`)."""
    stmt = _select(vector).where(*where)
    if order_by is not None:
        stmt = stmt.order_by(order_by)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [NoteRow(*row) for row in session.execute(stmt)]


def by_pk(
    session: Session, pks: Iterable[int], *, partition: str, vector: bool = False
) -> list[NoteRow]:
    """Rows for `pks` that belong to `partition`. Every candidate source (an index, the link
    graph, full text) is a cache keyed by primary key; the partition condition in the same
    statement means a stale or foreign key from any of them can never load another owner's
    note."""
    keys = list(pks)
    if not keys:
        return []
    return fetch(session, Note.pk.in_(keys), Note.partition == partition, vector=vector)
