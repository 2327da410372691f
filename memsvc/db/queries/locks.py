"""PostgreSQL session advisory locks (`pg_try_advisory_lock` / `pg_advisory_unlock`): work
that must run once per database however many replicas run it (the decay sweep) holds one on
a connection of its own; the server releases it if the process dies. Plain SQL: these are
PostgreSQL functions with no ORM counterpart. SQLite has none (its single writer already
serialises such work); callers do not call these there."""

from __future__ import annotations

from sqlalchemy import Connection, text

_TRY_LOCK = "SELECT pg_try_advisory_lock(:k)"
_UNLOCK = "SELECT pg_advisory_unlock(:k)"


def try_advisory_lock(conn: Connection, *, key: int) -> bool:
    """Takes the session lock `key` on `conn` if no other session holds it; whether it did."""
    return bool(conn.execute(text(_TRY_LOCK), {"k": key}).scalar())


def advisory_unlock(conn: Connection, *, key: int) -> None:
    """Releases the session lock `key` that `conn` holds."""
    conn.execute(text(_UNLOCK), {"k": key})
