"""lexical search: notes.search_text with SQLite FTS5 / PostgreSQL full-text, kept in step by
the database itself (triggers / a generated column), so it cannot drift from the notes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    # External-content FTS5 index over notes.search_text; porter stemming, unicode folding.
    """CREATE VIRTUAL TABLE notes_fts USING fts5(
        search_text, partition UNINDEXED,
        content='notes', content_rowid='pk', tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts(rowid, search_text, partition)
        VALUES (new.pk, new.search_text, new.partition);
    END""",
    """CREATE TRIGGER notes_fts_ad AFTER DELETE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, search_text, partition)
        VALUES ('delete', old.pk, old.search_text, old.partition);
    END""",
    """CREATE TRIGGER notes_fts_au AFTER UPDATE OF search_text, partition ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, search_text, partition)
        VALUES ('delete', old.pk, old.search_text, old.partition);
        INSERT INTO notes_fts(rowid, search_text, partition)
        VALUES (new.pk, new.search_text, new.partition);
    END""",
    "INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS notes_fts_au",
    "DROP TRIGGER IF EXISTS notes_fts_ad",
    "DROP TRIGGER IF EXISTS notes_fts_ai",
    "DROP TABLE IF EXISTS notes_fts",
]
PG_UP = [
    """ALTER TABLE notes ADD COLUMN search_tsv tsvector
        GENERATED ALWAYS AS (to_tsvector('english', search_text)) STORED""",
    "CREATE INDEX ix_notes_search_tsv ON notes USING gin (search_tsv)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_notes_search_tsv",
    "ALTER TABLE notes DROP COLUMN IF EXISTS search_tsv",
]


def upgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    # Existing notes: their content is the best lexical key we have until they are re-keyed.
    op.execute("UPDATE notes SET search_text = content")
    dialect = op.get_bind().dialect.name
    for stmt in SQLITE_UP if dialect == "sqlite" else PG_UP if dialect == "postgresql" else []:
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in SQLITE_DOWN if dialect == "sqlite" else PG_DOWN if dialect == "postgresql" else []:
        op.execute(stmt)
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_column("search_text")
