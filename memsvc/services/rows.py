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
order matters, before a note they refer to is deleted); a rollback drops them. They go in as
driver-level executemany calls (`memsvc.db.prebound`): the ORM's bulk INSERT spent more time
on each row's parameters than SQLite spent inserting it, and all of it under the write lock.
Every row names every column, `created_at` being the writer's clock."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from memsvc.db import prebound
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
    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self._history: list[tuple[dict[str, Any], Any]] = []  # (row, bound or None)
        self._links: list[dict[str, Any]] = []
        self._link_keys: set[tuple[int, int, str]] = set()
        self._slots: list[dict[str, Any]] = []
        # Every commit of the session, not only the first: a writer used across two commits
        # must not lose what it kept after the first one.
        event.listen(session, "before_commit", self._before_commit)
        event.listen(session, "after_rollback", self._drop)

    def bind_history(self, row: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """A history row made ready before the write lock: its values and driver
        parameters, for `add_history(row, bound=...)`."""
        full = {**row, "created_at": self.now}
        dialect = self.session.get_bind().dialect
        return full, prebound.binder(dialect, NoteHistory, tuple(full)).row(full)

    def add_history(self, row: dict[str, Any], bound: Any = None) -> None:
        """A history row (`history.row`), kept for the bulk insert in call order; `bound`:
        its parameters from `bind_history`."""
        self._history.append(({**row, "created_at": self.now}, bound))

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
                "created_at": self.now,
            }
        )

    def slot(self, partition: str, note_pk: int, name: str, value: str) -> None:
        self._slots.append(
            {"partition": partition, "note_pk": note_pk, "name": name, "value": value}
        )

    def flush(self) -> None:
        """Insert what is kept: one executemany per table."""
        dialect = self.session.get_bind().dialect
        history, self._history = self._history, []
        links, self._links = self._links, []
        self._link_keys.clear()
        slots, self._slots = self._slots, []
        if history:
            binder = prebound.binder(dialect, NoteHistory, tuple(history[0][0]))
            params = [binder.row(row) if bound is None else bound for row, bound in history]
            prebound.insert_bound(self.session, binder, params)
        for model, kept in ((NoteLink, links), (NoteSlot, slots)):
            if kept:
                prebound.insert_bound(self.session, *prebound.bind(dialect, model, kept))

    def _before_commit(self, session: Session) -> None:
        self.flush()

    def _drop(self, session: Session) -> None:
        self._history.clear()
        self._links.clear()
        self._link_keys.clear()
        self._slots.clear()
