"""Engine and session factory for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode so searches read while ingest writes. Write transactions start with
``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes can fail with
SQLITE_BUSY instead of waiting when another connection committed in between; taking the write
lock up front makes writers queue on ``busy_timeout`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from memsvc.config import DatabaseSettings
from memsvc.db import fulltext_terms


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(settings: DatabaseSettings) -> Engine:
    url = make_url(settings.url)
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    # A server connection can drop while pooled, so PostgreSQL's are pinged at checkout;
    # SQLite's is a file handle in this process: a ping there is one more statement for
    # every session (every search) and never finds anything.
    sqlite = url.get_backend_name() == "sqlite"
    kwargs: dict[str, Any] = {"echo": settings.echo, "pool_pre_ping": not sqlite}
    if sqlite:
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None hands transaction control to our BEGIN listener below.
        kwargs["connect_args"] = {"check_same_thread": False, "isolation_level": None}
    else:
        kwargs["pool_size"] = settings.pool_size
        kwargs["max_overflow"] = settings.pool_size
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine, settings.sqlite_synchronous)
    return engine


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()
        fulltext_terms.register(dbapi_conn)  # the full-text triggers call it

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """Owns the engine and hands out sessions: `read()` for queries, `write()` for changes."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE")
            if self.is_sqlite
            else self.engine
        )
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(bind=writer, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error."""
        with self._write() as session, session.begin():
            yield session

    def session(self) -> Session:
        """A plain session for request-scoped use (FastAPI dependency); the caller commits."""
        return self._write()

    def dispose(self) -> None:
        self.engine.dispose()
