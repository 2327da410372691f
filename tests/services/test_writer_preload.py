"""The writer reads the stored notes a plan refers to in one statement (`Writer.preload`).

What must hold: an add stores exactly what it stored when each reference was read alone
(notes, links, history, slots), the write no longer reads notes one primary key at a time,
and a key of another partition's note is never resolved, whatever the plan says."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import event, select

from memsvc import Memory
from memsvc.db.models import Note, NoteLink, NoteSlot
from memsvc.services import writer as writer_mod
from memsvc.services.planning import Plan, Unit
from memsvc.services.scope import Scope
from memsvc.services.writer import Writer
from memsvc.stores.index_changes import PendingChanges

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

SESSIONS = [
    [
        ("user", "I adopted a beagle called Max last spring; he loves the park by the lake."),
        ("assistant", "Beagles are lively! Walks by the lake sound perfect for Max."),
        ("user", "My favorite food is ramen and I live in Lisbon now."),
    ],
    [
        ("user", "Max the beagle chewed my running shoes again this morning."),
        ("assistant", "Chew toys and a longer walk usually help a bored beagle."),
        ("user", "I moved to Porto last month, so the lake walks are over."),
    ],
    [
        ("user", "We took Max to the park in Porto; he met three other beagles."),
        ("user", "I live in Porto and my favorite food is still ramen."),
        ("assistant", "Sounds like Max settled in well in Porto."),
    ],
]


def _ingest(mem: Memory, user: str) -> None:
    for i, turns in enumerate(SESSIONS):
        when = T0 + timedelta(days=7 * i)
        msgs = [
            {"role": r, "content": c, "timestamp": (when + timedelta(minutes=j)).isoformat()}
            for j, (r, c) in enumerate(turns)
        ]
        mem.add(messages=msgs, user_id=user, session_id=f"s{i}", wait=True)


def _rows(mem: Memory, user: str) -> dict[str, Any]:
    """What the add stored for `user`, by content (primary keys differ between stores)."""
    with mem.runtime.db.read() as s:
        notes = s.scalars(select(Note).where(Note.user_id == user)).all()
        by_pk = {n.pk: n.content for n in notes}
        links = s.execute(select(NoteLink.source_pk, NoteLink.target_pk, NoteLink.weight)).all()
        slots = s.execute(select(NoteSlot.note_pk, NoteSlot.name, NoteSlot.value)).all()
        return {
            "notes": sorted(
                (n.content, n.status, n.strength, n.valid_to is not None, tuple(n.facts or []))
                for n in notes
            ),
            "links": sorted((by_pk[a], by_pk[b], round(w, 6)) for a, b, w in links if a in by_pk),
            "slots": sorted((by_pk[p], name, value) for p, name, value in slots if p in by_pk),
        }


def test_same_rows_with_and_without_preload(
    memory_factory: Callable[..., Memory], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with memory_factory(data_dir=tmp_path / "preloaded") as mem:
        _ingest(mem, "a")
        preloaded = _rows(mem, "a")
    monkeypatch.setattr(writer_mod.Writer, "preload", lambda self, plan: None)
    with memory_factory(data_dir=tmp_path / "one-by-one") as mem:
        _ingest(mem, "a")
        one_by_one = _rows(mem, "a")
    assert preloaded == one_by_one
    assert preloaded["links"], "the sessions must produce links for this test to mean anything"


def test_write_reads_no_note_by_primary_key(
    memory_factory: Callable[..., Memory], db_url: str
) -> None:
    with memory_factory(db_url) as mem:
        _ingest(mem, "a")  # stored notes that the next add links to
        by_pk: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            s = " ".join(statement.split()).lower()
            if s.startswith("select") and "from notes" in s and "where notes.pk =" in s:
                by_pk.append(s)

        engine = mem.runtime.db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            mem.add(
                messages=[
                    {"role": "user", "content": "Max the beagle loves the Porto park."},
                    {"role": "user", "content": "My favorite food is ramen, still."},
                ],
                user_id="a",
                session_id="s9",
                timestamp=(T0 + timedelta(days=40)).isoformat(),
                wait=True,
            )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        with mem.runtime.db.read() as s:
            assert s.scalar(select(sa.func.count()).select_from(NoteLink)), "no links made"
        assert by_pk == []


def _unit(pos: int, text: str, vec: np.ndarray, **kw: Any) -> Unit:
    return Unit(
        position=pos,
        content=text,
        role="user",
        kind="turn",
        event_time=T0 + timedelta(days=60),
        episode_ids=[],
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        vector=vec,
        **kw,
    )


def test_foreign_keys_never_resolve(memory_factory: Callable[..., Memory], db_url: str) -> None:
    """A plan naming another partition's note (as merge target, superseded note or link
    target) writes nothing that touches it."""
    with memory_factory(db_url) as mem:
        _ingest(mem, "victim")
        _ingest(mem, "a")
        with mem.runtime.db.read() as s:
            foreign = s.scalars(select(Note.pk).where(Note.user_id == "victim")).all()
            before = _rows(mem, "victim")
        scope = Scope(namespace="default", user_id="a")
        dim = mem.runtime.embedder.dim
        vec = np.ones(dim, dtype=np.float32) / np.sqrt(dim)
        units = [
            _unit(0, "merge into a foreign note", vec, op="MERGE", target=foreign[0]),
            _unit(1, "supersede a foreign note", vec, op="SUPERSEDE", superseded=(foreign[1],)),
            _unit(2, "link to foreign notes", vec, links=[(pk, "x", 1.0) for pk in foreign]),
        ]
        with mem.runtime.db.session() as s:
            w = Writer(s, scope, PendingChanges(), mem.runtime.embedder.model_name)
            w.preload(Plan(units=units))
            assert all(w.resolve(pk) is None for pk in foreign)
            out = w.apply(Plan(units=units), {}, "test")
            s.commit()
        assert [e.event for e in out.events] == ["ADD", "ADD", "ADD"]
        with mem.runtime.db.read() as s:
            touching = select(NoteLink.pk).where(
                NoteLink.source_pk.in_(foreign) | NoteLink.target_pk.in_(foreign),
                NoteLink.partition != Scope(namespace="default", user_id="victim").partition,
            )
            assert s.scalars(touching).all() == []
        assert _rows(mem, "victim") == before
