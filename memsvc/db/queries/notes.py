"""Candidate rows for recall: the columns filtering and ranking read, as plain rows.

A query gathers a few hundred candidates and returns top_k of them, so what each candidate
row costs is most of a search after the query embedding. Three things made a row expensive
and are avoided here (bench/README.md, "Where a search's time goes"):

* ORM instances (identity map, attribute state): candidates are slotted `NoteRow`s; only the
  returned hits are loaded as whole `Note`s (`recall._full_rows`).
* SQLAlchemy's per-value result processing: five DATETIME columns a row, each parsed from
  SQLite's text by a regular expression and then given its UTC zone by `UTCDateTime`. The
  statements here are plain SQL with untyped columns, and `_utc` converts the raw value the
  way `UTCDateTime` does, with `datetime.fromisoformat` (C) on SQLite's text.
* Statement building: `select(...)` built and its cache key computed per call, and an
  expanding `IN (?, ?, ...)` rendered anew for every list length. The SQL is fixed text, the
  keys travel as one parameter (SQLite: a JSON array read by `json_each`; PostgreSQL: an
  array), so each statement is prepared once per connection.

Both backends return the same values as the ORM columns would (tests/services/
test_candidate_rows.py compares them). The speaker filter (`said_by`) looks notes up by key
the same way."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

from memsvc.db.base import UTCDateTime


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
    "pk, id, partition, user_id, agent_id, session_id, kind, status, valid_from, valid_to, "
    "created_at, event_time, strength, last_recalled_at, metadata"
)


def _statements(keys: str, partition: str) -> dict[tuple[str, bool], TextClause]:
    """(what, vector) -> statement, for one backend's way of passing a list of keys."""
    out: dict[tuple[str, bool], TextClause] = {}
    for vector in (False, True):
        cols = _COLUMNS + (", embedding" if vector else "")
        out["pk", vector] = text(
            f"SELECT {cols} FROM notes WHERE pk IN ({keys}) AND {partition} = :p ORDER BY pk"
        )
        # The same statement SQLAlchemy built before (same plan, same order of ties).
        out["time", vector] = text(
            f"SELECT {cols} FROM notes WHERE partition = :p AND event_time >= :start "
            "AND event_time < :end ORDER BY event_time DESC LIMIT :n"
        ).bindparams(bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))
    return out


# SQLite, left to itself, answers `pk IN (...) AND partition = ?` by scanning the whole
# partition in its (partition, status) index, a cost that grows with the partition; the
# unary `+` keeps the partition test off that index, so the keys are looked up one by one.
SQLITE_KEYS = "SELECT value FROM json_each(:pks)"
POSTGRES_KEYS = "SELECT unnest(CAST(:pks AS BIGINT[]))"
_SQLITE = _statements(SQLITE_KEYS, "+partition")
_POSTGRES = _statements(POSTGRES_KEYS, "partition")


def _utc(value: Any) -> datetime:
    """A DATETIME column's raw value as `UTCDateTime` returns it: an aware UTC datetime.
    SQLite stores naive UTC as text ("2023-05-20 02:21:00.000000"); PostgreSQL's driver
    returns aware datetimes already."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # not the naive text SQLAlchemy writes: parse it as it is
            value = datetime.fromisoformat(value)
    moment: datetime = value
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _json(value: Any) -> Any:
    """The JSON column's raw value decoded as SQLAlchemy's JSON type does (SQLite: text)."""
    if value == "{}":  # most notes' metadata: skip the decoder
        return {}
    return json.loads(value) if isinstance(value, str) else value


def _rows(
    session: Session, stmt: TextClause, params: dict[str, Any], skip: Collection[int]
) -> list[NoteRow]:
    out = []
    for r in session.connection().execute(stmt, params).all():  # one fetchall, not one a row
        if r[0] in skip:
            continue
        valid_to = r[9]
        out.append(
            NoteRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                _utc(r[8]),
                None if valid_to is None else _utc(valid_to),
                _utc(r[10]),
                _utc(r[11]),
                r[12],
                _utc(r[13]),
                _json(r[14]),
                r[15] if len(r) > 15 else None,
            )
        )
    return out


def _statement(session: Session, what: str, vector: bool) -> TextClause:
    dialect = session.get_bind().dialect.name
    return (_SQLITE if dialect == "sqlite" else _POSTGRES)[what, vector]


def rows_by_pk(
    session: Session, *, pks: Iterable[int], partition: str, vector: bool = False
) -> list[NoteRow]:
    """Rows for `pks` that belong to `partition` (with the key embedding when `vector`), in
    primary-key order. The partition condition is in the same statement, so a stale or
    foreign key can never load another owner's note."""
    keys = [int(pk) for pk in pks]
    if not keys:
        return []
    stmt = _statement(session, "pk", vector)
    sqlite = session.get_bind().dialect.name == "sqlite"
    return _rows(session, stmt, {"pks": json.dumps(keys) if sqlite else keys, "p": partition}, ())


def rows_in_time_range(
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
    stmt = _statement(session, "time", vector)
    params = {"p": partition, "start": start, "end": end, "n": limit}
    return _rows(session, stmt, params, skip)


def said_by(
    session: Session, *, partition: str, pks: Sequence[int], names: Sequence[str]
) -> set[int]:
    """Of the notes `pks` in `partition`, those whose text starts "Name: " for one of `names`
    (how a named speaker's words are stored). One statement, the notes looked up by primary
    key with the keys as one parameter (as `rows_by_pk` passes them); the number of names
    changes the text, so it is built per call (a search names one or two people)."""
    if not pks or not names:
        return set()
    said = " OR ".join(f"search_text LIKE :n{i}" for i in range(len(names)))
    params: dict[str, object] = {f"n{i}": f"{n}: %" for i, n in enumerate(names)}
    params["p"] = partition
    if session.get_bind().dialect.name == "sqlite":
        keys, params["pks"] = SQLITE_KEYS, json.dumps(list(pks))
        part = "+partition"  # by key, not by scanning the partition (see `_SQLITE`)
    else:
        keys, params["pks"] = POSTGRES_KEYS, list(pks)
        part = "partition"
    stmt = text(f"SELECT pk FROM notes WHERE pk IN ({keys}) AND {part} = :p AND ({said})")
    return {int(pk) for pk in session.scalars(stmt, params)}
