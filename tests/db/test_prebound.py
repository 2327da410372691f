"""Rows bound before their INSERT runs (`memsvc.db.prebound`) are stored exactly as the ORM's
own bulk INSERT stores them: every column of drawn notes, episodes and history rows (unicode
text, JSON lists and objects, vectors as bytes, datetimes in any time zone, NULLs) read back
equal on SQLite and PostgreSQL. Rows that leave out a column the INSERT would fill with a
Python-side default, or that name different columns, are refused rather than stored short."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.orm import Session

from memsvc.config import DatabaseSettings
from memsvc.db import prebound
from memsvc.db.base import Base
from memsvc.db.engine import make_engine
from memsvc.db.migrate import upgrade
from memsvc.db.models import Episode, Note, NoteHistory, new_uuid


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    made = make_engine(DatabaseSettings(url=db_url))
    upgrade(made)
    yield made
    made.dispose()


# PostgreSQL text holds no NUL; JSON keys and values are drawn from the same alphabet.
_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40)
_words = st.lists(_text, max_size=4)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_when = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
).flatmap(
    lambda moment: st.sampled_from([0, -300, 330, 720]).map(
        lambda minutes: moment.astimezone(timezone(timedelta(minutes=minutes)))
    )
)
_maybe = st.none() | _text


def _scope(draw: st.DrawFn) -> dict[str, Any]:
    """A note's or an episode's key and scope columns."""
    return {
        "id": new_uuid(),
        "namespace": draw(_text),
        "partition": "p/" + draw(_text),
        "user_id": draw(_maybe),
        "agent_id": draw(_maybe),
        "session_id": draw(_maybe),
    }


@st.composite
def _note(draw: st.DrawFn) -> dict[str, Any]:
    when = draw(_when)
    return {
        **_scope(draw),
        "kind": draw(st.sampled_from(["turn", "fact", "thought"])),
        "role": draw(st.none() | st.sampled_from(["user", "assistant"])),
        "content": draw(_text),
        "content_hash": draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
        "search_text": draw(_text),
        "keywords": draw(_words),
        "tags": draw(_words),
        "context": draw(_text),
        "facts": draw(_words),
        "slots": draw(st.lists(st.lists(_text, min_size=2, max_size=2), max_size=2)),
        "meta": draw(st.dictionaries(_text, _json, max_size=3)),
        "episode_ids": [new_uuid() for _ in range(draw(st.integers(0, 3)))],
        "embedding": draw(st.binary(max_size=64)),
        "part_texts": draw(st.none() | _words),
        "part_embeddings": draw(st.none() | st.binary(max_size=32)),
        "embed_model": draw(_maybe),
        "embed_dim": draw(st.none() | st.integers(0, 4096)),
        "event_time": when,
        "valid_from": when,
        "valid_to": draw(st.none() | _when),
        "superseded_by": draw(st.none() | st.just(new_uuid())),
        "status": draw(st.sampled_from(["active", "forgotten"])),
        "enrichment": "offline",
        "strength": draw(st.floats(0, 1e6, allow_nan=False)),
        "last_recalled_at": draw(_when),
        "recall_count": draw(st.integers(0, 2**31 - 1)),
        "created_at": draw(_when),
        "updated_at": draw(_when),
    }


@st.composite
def _episode(draw: st.DrawFn) -> dict[str, Any]:
    return {
        **_scope(draw),
        "role": draw(st.sampled_from(["user", "assistant", "agent"])),
        "name": draw(st.none() | st.text(max_size=20).filter(lambda s: "\x00" not in s)),
        "content": draw(_text),
        "event_time": draw(_when),
        "seq": draw(st.integers(0, 10_000)),
        "meta": draw(st.dictionaries(_text, _json, max_size=3)),
        "created_at": draw(_when),
    }


@st.composite
def _history(draw: st.DrawFn) -> dict[str, Any]:
    snapshot = st.none() | st.dictionaries(_text, _json, max_size=4)
    return {
        "note_id": new_uuid(),
        "namespace": draw(_text),
        "partition": "p/" + draw(_text),
        "event": draw(st.sampled_from(["ADD", "MERGE", "EVOLVE", "SUPERSEDE"])),
        "before": draw(snapshot),
        "after": draw(snapshot),
        "actor": draw(st.sampled_from(["offline", "llm", "api"])),
        "reason": draw(_text),
        "created_at": draw(_when),
    }


def _stored(session: Session, model: type[Base], key: str, values: list[str]) -> list[Any]:
    column = getattr(model, key)
    skip = {"pk", key}
    rows = session.scalars(select(model).where(column.in_(values))).all()
    by_key = {getattr(row, key): row for row in rows}
    return [
        {
            attr.key: getattr(by_key[value], attr.key)
            for attr in inspect(model).column_attrs
            if attr.key not in skip
        }
        for value in values
    ]


_KEY = {Note: "id", Episode: "id", NoteHistory: "note_id"}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
@pytest.mark.parametrize("model", [Note, Episode, NoteHistory], ids=lambda m: m.__name__)
def test_stored_like_the_orm_insert(engine: Engine, model: type[Base], data: st.DataObject) -> None:
    draw = {Note: _note(), Episode: _episode(), NoteHistory: _history()}[model]
    rows = data.draw(st.lists(draw, min_size=1, max_size=4))
    key = _KEY[model]
    twins = [{**row, key: new_uuid()} for row in rows]  # the same values under other keys
    with Session(engine) as session, session.begin():
        session.execute(insert(model), rows)
        prebound.insert_bound(session, *prebound.bind(engine.dialect, model, twins))
    with Session(engine) as session:
        ours = _stored(session, model, key, [row[key] for row in twins])
        orm = _stored(session, model, key, [row[key] for row in rows])
    assert ours == orm


def test_rows_must_name_every_bound_column(engine: Engine) -> None:
    row = {
        "note_id": new_uuid(),
        "namespace": "ns",
        "partition": "p/u",
        "event": "ADD",
        "before": None,
        "after": {"content": "x"},
        "actor": "offline",
        "reason": "",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    short = {k: v for k, v in row.items() if k != "created_at"}  # a Python-side default
    with pytest.raises(ValueError, match="every column"):
        prebound.bind(engine.dialect, NoteHistory, [short])
    reordered = dict(reversed(list(row.items())))
    with pytest.raises(ValueError, match="names"):
        prebound.bind(engine.dialect, NoteHistory, [row, reordered])
    with Session(engine) as session:
        assert session.scalar(select(NoteHistory.pk).limit(1)) is None


@pytest.mark.parametrize("limit", [None, 100])
def test_keys_returned_in_chunks(engine: Engine, limit: int | None) -> None:
    """Notes inserted with their keys asked back: on SQLite every inserted note's (id, pk),
    exactly as stored, also when SQLite's parameter limit cuts the rows into many statements
    (100 parameters: two notes a statement) or the rows outnumber one statement's 500;
    elsewhere None (the caller reads them back)."""
    when = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "id": new_uuid(),
            "namespace": "ns",
            "partition": "p/keys",
            "content": f"note {i}",
            "content_hash": "0" * 64,
            "event_time": when,
            "valid_from": when,
            "last_recalled_at": when,
            "created_at": when,
            "updated_at": when,
            "keywords": [],
            "tags": [],
            "context": "",
            "facts": [],
            "search_text": f"note {i}",
            "slots": [],
            "meta": {},
            "episode_ids": [],
            "part_texts": [],
            "kind": "turn",
            "status": "active",
            "enrichment": "offline",
            "strength": 1.0,
            "recall_count": 0,
        }
        for i in range(1203 if limit is None else 9)
    ]
    with Session(engine) as session, session.begin():
        driver = session.connection().connection.driver_connection
        if limit is not None and engine.dialect.name == "sqlite":
            driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
        made, params = prebound.bind(engine.dialect, Note, rows)
        returned = prebound.insert_bound(session, made, params, returning=("id", "pk"))
    with Session(engine) as session:
        found = session.execute(select(Note.id, Note.pk).where(Note.partition == "p/keys"))
        stored = {note_id: pk for note_id, pk in found}
    assert len(stored) == len(rows)
    if engine.dialect.name == "sqlite":
        assert returned is not None and dict(returned) == stored
    else:
        assert returned is None
