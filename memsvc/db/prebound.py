"""Rows for an INSERT made ready before the transaction that inserts them.

Why: on SQLite every writer of the database waits while one holds the write lock, so what a
write costs under that lock caps ingest for every process sharing the store (bench/README.md,
"GPU ingest"). An ORM or Core INSERT turns each row's values into driver parameters (JSON
text, naive UTC datetimes, the statement's parameter order) while it runs, under the lock.
`Binder.row` does that work first, with the column types' own bind processors, so running
the statement (`insert_bound`) is only the driver's work: one executemany, or, where the
caller needs the rows' generated keys back and the driver's placeholders are positional
(SQLite), one multi-row ``INSERT ... VALUES (...), (...) RETURNING`` a few hundred rows at a
time (for notes also a quarter cheaper than executemany, bench/README.md "2026-12-07
(sixth)"; for narrow rows of varying count it was slower: each row count is a statement
SQLite must parse anew).

Only for rows that name every column the INSERT would bind: a column left out that has a
Python-side default is refused (its value would be computed by the statement), and rows of
one statement must name the same columns in the same order. Values are read when bound: a
caller that changes a row afterwards binds it again (`NewNotes.insert`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Table, insert, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from memsvc.db.base import Base

Processor = Callable[[Any], Any] | None

# Rows a multi-row statement holds at most (also bounded by SQLite's parameter limit).
_ROWS = 500


@cache
def _columns(model: type[Base]) -> dict[str, str]:
    """Attribute key -> column name (`Note.meta` is the column `metadata`)."""
    return {attr.key: attr.columns[0].name for attr in inspect(model).column_attrs}


class Binder:
    """One table's INSERT for rows naming the attribute keys `keys`, in that order: its SQL
    in the dialect's own form, and `row` turning one row's values into driver parameters
    with the column types' bind processors (what SQLAlchemy does while it executes)."""

    def __init__(self, dialect: Dialect, model: type[Base], keys: tuple[str, ...]) -> None:
        table = model.__table__
        assert isinstance(table, Table)
        names = _columns(model)
        columns = [table.c[names[key]] for key in keys]
        compiled = insert(table).compile(dialect=dialect, column_keys=[c.key for c in columns])
        self.sql = str(compiled)
        self.keys = keys
        self._names = tuple(c.key for c in columns)
        binds = list(compiled.positiontup or ()) if compiled.positional else None
        # Every parameter must be one of the given columns: a column left out with a
        # Python-side default would be computed by the statement, and has no value here.
        if set(binds if binds is not None else compiled.binds) != set(self._names):
            raise ValueError(f"{model.__name__} rows must name every column the INSERT binds")
        self._order = None if binds is None else tuple(self._names.index(b) for b in binds)
        self._processors: tuple[Processor, ...] = tuple(
            c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns
        )
        # "INSERT INTO t (a, b) VALUES (?, ?)": several rows are the group repeated.
        head, _, group = self.sql.partition(" VALUES ")
        self._multirow = dialect.paramstyle == "qmark" and group.startswith("(")
        self._head, self._group = head, group
        self._quote = dialect.identifier_preparer.quote

    def multirow(self, rows: int, returning: Sequence[str] = ()) -> str | None:
        """The statement for `rows` rows at once (positional parameters, row after row), or
        None where the driver's placeholders are not positional."""
        if not self._multirow:
            return None
        tail = f" RETURNING {', '.join(map(self._quote, returning))}" if returning else ""
        return f"{self._head} VALUES {', '.join([self._group] * rows)}{tail}"

    def row(self, row: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """One row's driver parameters (`row`: attribute key -> value, in `keys`' order)."""
        if tuple(row) != self.keys:
            raise ValueError(f"row names {tuple(row)}, the statement {self.keys}")
        values = [
            value if proc is None else proc(value)
            for value, proc in zip(row.values(), self._processors, strict=True)
        ]
        if self._order is None:
            return dict(zip(self._names, values, strict=True))
        return tuple(values[i] for i in self._order)


@lru_cache(maxsize=64)  # per engine's dialect: a few in a process
def binder(dialect: Dialect, model: type[Base], keys: tuple[str, ...]) -> Binder:
    return Binder(dialect, model, keys)


def bind(
    dialect: Dialect, model: type[Base], rows: Sequence[Mapping[str, Any]]
) -> tuple[Binder | None, list[Any]]:
    """`rows` (the same attribute keys in each) as their statement and driver parameters."""
    if not rows:
        return None, []
    made = binder(dialect, model, tuple(rows[0]))
    return made, [made.row(row) for row in rows]


def insert_bound(
    session: Session,
    made: Binder | None,
    params: Sequence[Any],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]] | None:
    """Run a bound INSERT in the session's transaction. With `returning` (column names):
    the inserted rows' values of those columns, in no particular order, or None where the
    driver cannot return them from one statement (the caller reads them back)."""
    if made is None or not params:
        return [] if returning else None
    conn = session.connection()
    driver = conn.connection.driver_connection
    if not returning or made.multirow(1) is None or driver is None:
        conn.exec_driver_sql(made.sql, list(params))
        return None
    # SQLite's limit on a statement's parameters (999 before 3.32, 32,766 since).
    getlimit = getattr(driver, "getlimit", None)
    limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else 999
    size = max(1, min(_ROWS, limit // len(made.keys)))
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(params), size):
        chunk = params[start : start + size]
        sql = made.multirow(len(chunk), returning)
        assert sql is not None
        flat = tuple(value for row in chunk for value in row)
        out.extend(tuple(row) for row in conn.exec_driver_sql(sql, flat))
    return out
