"""Neighbours' evolution made ready before the write lock, applied under it only where the
stored row is still the one read after planning.

Why: an add that links its notes to stored ones often gives those neighbours new tags
(A-MEM's evolution), and the writer used to read each evolved neighbour whole under SQLite's
write lock, change it through the ORM, build its history row and flush its UPDATE through the
unit of work: about a fifth of the lock's hold on LoCoMo (bench/README.md, "2026-12-07
(seventh)"). Every value that change writes is a function of the row as planning saw it, so
it is made first: `read` fetches the evolved rows outside the write (a read session, after
planning), `Prepared` (from `Writer.prepare`) computes their new tags, context, key text,
history rows, UPDATE parameters and full-text terms. Under the lock `Prepared.apply` reads those
rows again, narrowly and as the driver returns them, and writes each one whose stored values
are exactly those read before; any other (changed, deleted or moved since, or changed by a
unit of the same add) goes through `Writer.evolve` as before, which re-reads it. The stored
result is the one `Writer.evolve` would leave (tests/services/test_writer_evolve.py compares
both, column by column)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import LargeBinary, Table, Unicode, bindparam, func, select, type_coerce, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from memsvc.db import fulltext_terms
from memsvc.db.models import Note
from memsvc.services import history
from memsvc.services.enrich import key_text
from memsvc.services.planning import Plan, StoredNote
from memsvc.services.rows import Rows
from memsvc.stores.index_changes import PendingChanges

# What an evolution reads and what its history row records: the snapshot's fields, the key
# text's inputs among them, and the note's identity.
_FIELDS = ("id", "namespace", "partition", *history.SNAPSHOT_FIELDS)
_TABLE = Note.__table__
assert isinstance(_TABLE, Table)
_COLUMNS = [_TABLE.c[getattr(Note, name).property.columns[0].name] for name in _FIELDS]
# As stored: every column coerced to text, so no result processor turns it into another
# value (JSON text stays text, SQLite's datetimes stay text) and two reads compare exactly.
_RAW = select(Note.pk, *[type_coerce(c, Unicode()) for c in _COLUMNS]).where(
    Note.pk.in_(bindparam("keys", expanding=True)), Note.partition == bindparam("partition")
)
_UPDATE = (
    update(_TABLE)
    .where(_TABLE.c.pk == bindparam("b_pk"))
    .values(
        tags=bindparam("b_tags", type_=_TABLE.c.tags.type),
        context=bindparam("b_context", type_=_TABLE.c.context.type),
        search_text=bindparam("b_search_text", type_=_TABLE.c.search_text.type),
        # No new vector (content-only keys): the stored one stays.
        embedding=func.coalesce(bindparam("b_embedding", type_=LargeBinary()), _TABLE.c.embedding),
        updated_at=bindparam("b_updated_at", type_=_TABLE.c.updated_at.type),
    )
)


def _processors(dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    return [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in _COLUMNS]


def _raw(session: Session, keys: list[int], partition: str) -> dict[int, tuple[Any, ...]]:
    rows = session.connection().execute(_RAW, {"keys": keys, "partition": partition})
    return {row[0]: tuple(row[1:]) for row in rows}


def _key(values: dict[str, Any]) -> str:
    """`enrich.key_text_of` of a note given by its values."""
    return key_text(
        values["content"],
        values["keywords"] or [],
        values["tags"] or [],
        values["context"] or "",
        values["facts"] or [],
    )


def read(session: Session, plan: Plan, partition: str) -> None:
    """Read the rows `plan` evolves (outside the write), for `Prepared`."""
    keys = sorted(pk for pk in plan.evolutions if pk >= 0)
    if not keys:
        return
    procs = _processors(session.get_bind().dialect)
    for pk, raw in _raw(session, keys, partition).items():
        decoded = {
            name: value if proc is None or value is None else proc(value)
            for name, value, proc in zip(_FIELDS, raw, procs, strict=True)
        }
        plan.stored[pk] = StoredNote(raw, decoded)


@dataclass
class _Ready:
    raw: tuple[Any, ...]
    # None: the evolution changes nothing a history row keeps (`Writer.evolve` skips it).
    params: dict[str, Any] | None = None
    history: tuple[dict[str, Any], Any] | None = None  # `Rows.bind_history`'s row, parameters
    vector: np.ndarray | None = None


class Prepared:
    """The plan's evolutions of stored notes, computed before the write lock."""

    def __init__(self, session: Session, partition: str) -> None:
        self.session = session
        self.partition = partition
        self.ready: dict[int, _Ready] = {}  # note key -> its change, ready to write

    def prepare(self, plan: Plan, rows: Rows, *, now: datetime, actor: str, expand: bool) -> None:
        """What `Writer.evolve` would write for each evolution whose note no unit of `plan`
        changes (merges into, supersedes) and which `read` found."""
        touched = {u.target for u in plan.units} | {k for u in plan.units for k in u.superseded}
        for pk, evo in plan.evolutions.items():
            stored = plan.stored.get(pk)
            if stored is None or pk in touched:  # `read` kept this partition's rows only
                continue
            values = stored.values
            before = history.snapshot_of(values)
            if evo.tags is not None:
                values = {**values, "tags": list(evo.tags)}
            if evo.context is not None:
                values = {**values, "context": evo.context}
            after = history.snapshot_of(values)
            if after == before:
                self.ready[pk] = _Ready(stored.raw)
                continue
            vector = None if evo.vector is None else np.asarray(evo.vector, dtype=np.float32)
            row = history.row(
                values, "EVOLVE", before=before, after=after, actor=actor, reason=evo.reason
            )
            self.ready[pk] = _Ready(
                raw=stored.raw,
                params={
                    "b_pk": pk,
                    "b_tags": values["tags"],
                    "b_context": values["context"],
                    "b_search_text": _key(values) if expand else values["content"],
                    "b_embedding": None if vector is None else vector.tobytes(),
                    "b_updated_at": now,
                },
                history=rows.bind_history(row),
                vector=vector,
            )
        if self.ready and self.session.get_bind().dialect.name == "sqlite":
            # Their full-text terms too: the UPDATE's trigger would make them under the lock.
            texts = [r.params["b_search_text"] for r in self.ready.values() if r.params]
            fulltext_terms.prepare(self.partition, texts)

    def keys(self) -> set[int]:
        """Notes the writer need not read under the lock (unless `apply` finds them
        changed since they were read)."""
        return set(self.ready)

    def apply(self, changes: PendingChanges) -> None:
        """Under the lock: write every prepared change whose note is stored as it was read;
        forget the others (`done` then says False and the writer evolves them itself)."""
        if not self.ready:
            return
        current = _raw(self.session, sorted(self.ready), self.partition)
        for pk in [pk for pk, r in self.ready.items() if current.get(pk) != r.raw]:
            del self.ready[pk]
        params = [r.params for r in self.ready.values() if r.params is not None]
        if params:
            self.session.connection().execute(_UPDATE, params)
            # A note of these still held in the session (loaded by an earlier write through
            # it, as `add_many`'s items are) would otherwise keep the values from before.
            for p in params:
                held = self.session.identity_map.get(identity_key(Note, p["b_pk"]))
                if held is not None:
                    self.session.expire(held)
        for pk, r in self.ready.items():
            if r.vector is not None and r.params is not None:
                changes.upsert([pk], r.vector.reshape(1, -1))

    def done(self, pk: int, rows: Rows) -> bool:
        """Whether `apply` took care of `pk`'s evolution (its history row, if any, is kept
        in `rows` now, in the caller's order)."""
        ready = self.ready.pop(pk, None)
        if ready is None:
            return False
        if ready.history is not None:
            rows.add_history(*ready.history)
        return True
