"""Candidate rows for recall: the columns filtering and ranking read, as plain rows
(`NoteRow`), by primary key or by event time. The statements and the conversion of their
raw values are `memsvc.db.queries.notes` (which says why they are plain SQL); this module
is what the recall stages call."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from memsvc.db.queries import notes
from memsvc.db.queries.notes import NoteRow

__all__ = ["NoteRow", "by_pk", "in_time_range"]


def by_pk(
    session: Session, pks: Iterable[int], *, partition: str, vector: bool = False
) -> list[NoteRow]:
    """Rows for `pks` that belong to `partition` (with the key embedding when `vector`).
    Every candidate source (an index, the link graph, full text) is a cache keyed by primary
    key; the partition condition in the same statement means a stale or foreign key from any
    of them can never load another owner's note."""
    return notes.rows_by_pk(session, pks=pks, partition=partition, vector=vector)


def in_time_range(
    session: Session,
    *,
    partition: str,
    start: datetime,
    end: datetime,
    limit: int,
    vector: bool = False,
    skip: Collection[int] = (),
) -> list[NoteRow]:
    """The latest `limit` rows of `partition` with `start <= event_time < end`, newest first,
    leaving out those whose pk is in `skip` (they are counted in `limit`, not converted)."""
    return notes.rows_in_time_range(
        session, partition=partition, start=start, end=end, limit=limit, vector=vector, skip=skip
    )
