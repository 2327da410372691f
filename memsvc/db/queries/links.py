"""The links that touch given notes, for link expansion at recall (`memsvc.stores.graphs`).

Hand-written like `notes.rows_by_pk`, for the same measured reasons (bench/link_expansion.py,
100k notes, ten keys): built with `select(...).in_(...)` the lookup cost 0.35-0.42 ms a
search, most of it SQLAlchemy rendering an expanding IN and processing results; as fixed text
with the keys as one parameter it is prepared once per connection. On SQLite the partition is
compared as `+partition`, which keeps the planner on the key indexes: given a plain
`partition = :p`, it walked the partition's index instead, every link of the partition (50 ms
a search at 100k notes)."""

from __future__ import annotations

import json
from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.orm import Session

from memsvc.db.queries.notes import POSTGRES_KEYS, SQLITE_KEYS


def _statement(keys: str, partition: str) -> str:
    cols = "source_pk, target_pk, weight"
    return (
        f"SELECT {cols} FROM note_links WHERE source_pk IN ({keys}) AND {partition} = :p "
        f"UNION ALL SELECT {cols} FROM note_links WHERE target_pk IN ({keys}) AND {partition} = :p"
    )


_SQLITE = text(_statement(SQLITE_KEYS, "+partition"))
_POSTGRES = text(_statement(POSTGRES_KEYS, "partition"))


def incident(
    session: Session, *, partition: str, pks: Collection[int]
) -> list[tuple[int, int, float]]:
    """(source, target, weight) of every link of `partition` with an end among `pks`, either
    direction; a link between two of `pks` comes twice."""
    keys = [int(pk) for pk in pks]
    if not keys:
        return []
    if session.get_bind().dialect.name == "sqlite":
        stmt, value = _SQLITE, json.dumps(keys)
    else:
        stmt, value = _POSTGRES, keys  # type: ignore[assignment]
    rows = session.execute(stmt, {"pks": value, "p": partition})
    return [(int(a), int(b), float(w)) for a, b, w in rows]
