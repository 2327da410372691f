"""History, link and slot rows of one write transaction, inserted in bulk just before it
commits.

Why not `session.add`: the ORM must learn each new row's integer key, and on SQLite it cannot
match a multi-row INSERT ... RETURNING to its parameters, so it inserts such tables one
statement per row. History, link and slot rows are never read back inside the transaction,
so they wait here and go in as one executemany per table. Over the five LoCoMo dev
conversations that was 11,364 statements in 128 adds; with notes and episodes batched as well
(their uuid is the insert sentinel), the write took 1.5 x less time (bench/README, "less work
under the write lock").

The rows are inserted by a `before_commit` listener on the session (and by `flush()` where an
order matters, before a note they refer to is deleted); a rollback drops them."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from memsvc.db.base import Base
from memsvc.db.models import NoteHistory, NoteLink, NoteSlot


@cache
def _column_keys(model: type[Base]) -> frozenset[str]:
    return frozenset(attr.key for attr in inspect(model).column_attrs)


def values(obj: Base) -> dict[str, Any]:
    """The column values set on a transient ORM object, by attribute key: one row for an ORM
    bulk INSERT (`session.execute(insert(Model), rows)`); unset columns get their defaults."""
    keys = _column_keys(type(obj))
    return {key: value for key, value in vars(obj).items() if key in keys}


class Rows:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._history: list[dict[str, Any]] = []
        self._links: list[dict[str, Any]] = []
        self._link_keys: set[tuple[int, int, str]] = set()
        self._slots: list[dict[str, Any]] = []
        # Every commit of the session, not only the first: a writer used across two commits
        # must not lose what it kept after the first one.
        event.listen(session, "before_commit", self._before_commit)
        event.listen(session, "after_rollback", self._drop)

    def add_history(self, row: dict[str, Any]) -> None:
        """A history row (`history.row`), kept for the bulk insert in call order."""
        self._history.append(row)

    def has_link(self, source_pk: int, target_pk: int, kind: str) -> bool:
        if (source_pk, target_pk, kind) in self._link_keys:
            return True
        found = self.session.scalar(
            select(NoteLink.pk).where(
                NoteLink.source_pk == source_pk,
                NoteLink.target_pk == target_pk,
                NoteLink.kind == kind,
            )
        )
        return found is not None

    def link(
        self, partition: str, source_pk: int, target_pk: int, kind: str, reason: str, weight: float
    ) -> None:
        self._link_keys.add((source_pk, target_pk, kind))
        self._links.append(
            {
                "partition": partition,
                "source_pk": source_pk,
                "target_pk": target_pk,
                "kind": kind,
                "reason": reason,
                "weight": weight,
            }
        )

    def slot(self, partition: str, note_pk: int, name: str, value: str) -> None:
        self._slots.append(
            {"partition": partition, "note_pk": note_pk, "name": name, "value": value}
        )

    def flush(self) -> None:
        """Insert what is kept (ORM bulk INSERT: executemany, column defaults applied)."""
        rows, self._history = self._history, []
        if rows:
            self.session.execute(insert(NoteHistory), rows)
        links, self._links = self._links, []
        self._link_keys.clear()
        if links:
            self.session.execute(insert(NoteLink), links)
        slots, self._slots = self._slots, []
        if slots:
            self.session.execute(insert(NoteSlot), slots)

    def _before_commit(self, session: Session) -> None:
        self.flush()

    def _drop(self, session: Session) -> None:
        self._history.clear()
        self._links.clear()
        self._link_keys.clear()
        self._slots.clear()
