"""Candidate rows (`memsvc.db.queries.notes`) are fetched with plain SQL and converted by
hand instead of through the ORM's column types. They must hold exactly what the ORM returns
for the same notes, on SQLite and PostgreSQL: every attribute (aware UTC datetimes with their
microseconds, a set `valid_to`, metadata, the key embedding), in primary-key order, never a
row of another partition; and the time-range fetch must return the ORM query's rows in its
order, leaving out the keys it is told to skip."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from memsvc import Memory
from memsvc.db.models import Note
from memsvc.db.queries import notes as note_rows
from memsvc.db.queries.notes import NoteRow
from memsvc.embed import CachedEmbedder
from tests.conftest import make_settings

T0 = datetime(2023, 5, 8, 13, 0, 7, 123456, tzinfo=UTC)
FIELDS = [f.name for f in dataclasses.fields(NoteRow)]


def _store(mem: Memory) -> None:
    for i, text in enumerate(
        [
            "I adopted a grey cat called Miso last spring.",
            "My sister lives in Lisbon and works as an architect.",
            "We went camping in the mountains over the long weekend.",
            "I started learning the violin in January.",
            "The dentist appointment moved to Thursday at nine.",
            "I prefer green tea to coffee in the morning.",
        ]
    ):
        mem.add(
            text=text,
            user_id="u",
            session_id=f"s{i % 2}",
            metadata={"topic": f"t{i}", "n": i} if i % 2 else {},
            timestamp=T0 + timedelta(days=3 * i, microseconds=i),
            infer=False,
        )
    mem.add(text="Another user's note about camping.", user_id="v", infer=False)


def _orm(mem: Memory) -> tuple[str, dict[int, Note], int]:
    with mem.runtime.db.write() as session:
        # One note with a validity end, as a superseded note has.
        first = session.scalars(select(Note.pk).order_by(Note.pk)).first()
        session.execute(
            update(Note).where(Note.pk == first).values(valid_to=T0 + timedelta(days=1))
        )
    with mem.runtime.db.read() as session:
        notes = {n.pk: n for n in session.scalars(select(Note))}
        for n in notes.values():
            session.expunge(n)
    mine = [n for n in notes.values() if n.user_id == "u"]
    foreign = next(n.pk for n in notes.values() if n.user_id == "v")
    return mine[0].partition, {n.pk: n for n in mine}, foreign


def _same(row: NoteRow, note: Note, vector: bool) -> None:
    for name in FIELDS:
        want = getattr(note, name) if name != "embedding" or vector else None
        got = getattr(row, name)
        assert got == want, f"{name}: {got!r} != {want!r}"
        if isinstance(want, datetime):
            assert got.tzinfo is UTC and got.microsecond == want.microsecond, name


def test_rows_equal_the_orm(tmp_path: Path, db_url: str, embedder: CachedEmbedder) -> None:
    with Memory(make_settings(tmp_path, db_url), embedder=embedder) as mem:
        _store(mem)
        partition, notes, foreign = _orm(mem)
        assert any(n.valid_to is not None for n in notes.values())
        assert any(n.meta for n in notes.values())
        keys = [*sorted(notes, reverse=True), foreign, 10**9]
        with mem.runtime.db.read() as session:
            for vector in (False, True):
                rows = note_rows.rows_by_pk(session, pks=keys, partition=partition, vector=vector)
                assert [r.pk for r in rows] == sorted(notes)  # pk order, no foreign row
                for r in rows:
                    _same(r, notes[r.pk], vector)
            assert note_rows.rows_by_pk(session, pks=[], partition=partition) == []
            assert note_rows.rows_by_pk(session, pks=[foreign], partition=partition) == []


def test_time_range_equals_the_orm(tmp_path: Path, db_url: str, embedder: CachedEmbedder) -> None:
    with Memory(make_settings(tmp_path, db_url), embedder=embedder) as mem:
        _store(mem)
        partition, notes, _ = _orm(mem)
        start, end = T0 + timedelta(days=3), T0 + timedelta(days=12, microseconds=3)
        with mem.runtime.db.read() as session:
            want = session.scalars(
                select(Note.pk)
                .where(Note.partition == partition, Note.event_time >= start)
                .where(Note.event_time < end)
                .order_by(Note.event_time.desc())
                .limit(3)
            ).all()
            assert len(want) == 3  # days 3, 6, 9: the bounds' microseconds matter
            rows = note_rows.rows_in_time_range(
                session, partition=partition, start=start, end=end, limit=3
            )
            assert [r.pk for r in rows] == want
            for r in rows:
                _same(r, notes[r.pk], False)
            skipped = note_rows.rows_in_time_range(
                session, partition=partition, start=start, end=end, limit=3, skip={want[0]}
            )
            assert [r.pk for r in skipped] == want[1:]
            vec = note_rows.rows_in_time_range(
                session, partition=partition, start=start, end=end, limit=1, vector=True
            )
            assert vec[0].embedding == notes[want[0]].embedding is not None
