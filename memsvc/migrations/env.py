"""Alembic environment: runs against the connection memsvc hands in, or the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from memsvc.config import get_settings
from memsvc.db import models  # noqa: F401  (registers the tables on Base.metadata)
from memsvc.db.base import Base
from memsvc.db.engine import make_engine

config = context.config
target_metadata = Base.metadata


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # The lexical index lives outside the ORM: FTS5 shadow tables (SQLite) and a generated
    # tsvector column (PostgreSQL), both created by revision 0003.
    return not (name or "").startswith(("notes_fts", "search_tsv", "ix_notes_search_tsv"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs need batch mode
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    settings = get_settings()
    url = config.get_main_option("sqlalchemy.url")
    if url:
        settings.database.url = url
    engine = make_engine(settings.database)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
