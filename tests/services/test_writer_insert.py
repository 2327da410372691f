"""New notes are built, and their rows bound, before the write lock (`Writer.prepare`,
`memsvc.db.prebound`); notes, episodes and slots go in as driver-level executemany calls
(`NewNotes.insert`, `ingest.insert_episodes`, `Rows.slot`).

What must hold: every stored column equals what the writer stored when it built each note
under the lock and added episodes and slots through the unit of work (SQLite and
PostgreSQL), also for a note merged into or superseded within the add that created it; the
notes are built before the transaction's first statement (on SQLite, BEGIN IMMEDIATE: the
database's write lock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, inspect, select

from memsvc import Memory
from memsvc.db import prebound
from memsvc.db.models import Episode, Note, NoteSlot
from memsvc.services import ingest
from memsvc.services import writer as writer_mod
from memsvc.services.rows import Rows
from memsvc.services.writer import Writer
from tests.services.test_writer_preload import T0, _ingest

# Volatile or store-specific columns: keys, uuids, wall-clock stamps.
_SKIP = {"pk", "id", "created_at", "updated_at", "episode_ids", "superseded_by", "user_id"}


def _unit_of_work(m: pytest.MonkeyPatch) -> None:
    """The writer as it was: notes built under the lock and inserted by the unit of work;
    slots and episodes added to the session one by one and flushed by the unit of work."""

    def slot(self: Rows, partition: str, note_pk: int, name: str, value: str) -> None:
        self.session.add(NoteSlot(partition=partition, note_pk=note_pk, name=name, value=value))

    def insert(self: Writer, notes: list[Note]) -> None:
        self.session.add_all(notes)
        self.session.flush()

    m.setattr(Writer, "prepare", lambda self, plan, meta, actor: None)
    m.setattr(Writer, "_insert", insert)
    m.setattr(Rows, "slot", slot)
    m.setattr(ingest, "insert_episodes", lambda session, episodes: session.add_all(episodes))


def _columns(row: Any, skip: set[str]) -> tuple[Any, ...]:
    return tuple(
        (attr.key, getattr(row, attr.key))
        for attr in inspect(type(row)).column_attrs
        if attr.key not in skip
    )


def _stored(mem: Memory, user: str) -> dict[str, Any]:
    with mem.runtime.db.read() as s:
        notes = s.scalars(
            select(Note).where(Note.user_id == user).order_by(Note.content, Note.pk)
        ).all()
        by_pk = {n.pk: n.content for n in notes}
        # Deferred columns loaded too: part texts and vectors are part of what was written.
        for n in notes:
            _ = n.part_texts, n.part_embeddings
        episodes = s.scalars(select(Episode).where(Episode.user_id == user)).all()
        slots = s.execute(select(NoteSlot.note_pk, NoteSlot.name, NoteSlot.value)).all()
        superseded = {n.content: n.superseded_by is not None for n in notes}
        return {
            "notes": [_columns(n, _SKIP | {"partition", "namespace"}) for n in notes],
            "episodes": sorted(_columns(e, _SKIP | {"partition", "namespace"}) for e in episodes),
            "slots": sorted((by_pk[p], name, value) for p, name, value in slots if p in by_pk),
            "superseded": superseded,
        }


def _repeat_within_one_add(mem: Memory, user: str) -> None:
    """One add whose second message repeats the first (a merge into a note the same add
    creates) and whose last one updates a fact stated earlier in it (a supersession)."""
    when = T0 + timedelta(days=60)
    texts = [
        "My sister Ana lives in Madrid and teaches chemistry.",
        "My sister Ana lives in Madrid and teaches chemistry.",
        "I live in Porto.",
        "Actually I live in Braga now.",
    ]
    msgs = [
        {"role": "user", "content": t, "timestamp": (when + timedelta(minutes=i)).isoformat()}
        for i, t in enumerate(texts)
    ]
    meta = {"source": "test", "n": 4}
    mem.add(messages=msgs, user_id=user, session_id="s-repeat", metadata=meta, wait=True)


def test_same_rows_as_the_unit_of_work(
    memory_factory: Callable[..., Memory], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    with memory_factory(db_url) as mem:
        _ingest(mem, "bulk")
        _repeat_within_one_add(mem, "bulk")
        with monkeypatch.context() as m:
            _unit_of_work(m)
            _ingest(mem, "reference")
            _repeat_within_one_add(mem, "reference")
        bulk, reference = _stored(mem, "bulk"), _stored(mem, "reference")
    assert bulk == reference
    assert bulk["slots"], "the sessions state facts with slots"
    assert any(bulk["superseded"].values()), "a supersession was written"
    strengths = [dict(n)["strength"] for n in bulk["notes"]]
    assert max(strengths) > 1.0, "a merge was written"


def test_notes_are_built_before_the_write_lock(
    memory_factory: Callable[..., Memory], monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    build = writer_mod.new_note

    def recorded(*args: Any, **kw: Any) -> Note:
        events.append("note")
        return build(*args, **kw)

    def statement(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        if text.startswith("BEGIN IMMEDIATE"):
            events.append("lock")

    bind_row = prebound.Binder.row

    def bound(self: prebound.Binder, row: Any) -> Any:
        events.append("bound")
        return bind_row(self, row)

    monkeypatch.setattr(writer_mod, "new_note", recorded)
    monkeypatch.setattr(prebound.Binder, "row", bound)
    with memory_factory() as mem:
        event.listen(mem.runtime.db.engine, "before_cursor_execute", statement)
        msgs = [
            {"role": "user", "content": f"Fact {i}: the heron nests by pier {i}."} for i in range(6)
        ]
        mem.add(messages=msgs, user_id="u", wait=True)
        event.remove(mem.runtime.db.engine, "before_cursor_execute", statement)
    # Every note built and bound first, with its ADD history row and its episode, then the
    # one write lock; what is bound after it is the rows made under it (links).
    assert events.count("lock") == 1
    before = events[: events.index("lock")]
    assert before.count("note") == 6 and events.count("note") == 6
    assert before.count("bound") == 18, events
