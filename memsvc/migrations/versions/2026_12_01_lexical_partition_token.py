"""lexical search per partition: SQLite's FTS5 index gets the partition as an indexed token, so
a query matches only its own partition's documents instead of ranking every tenant's matches
and filtering afterwards (that cost grew with the whole database, not with the partition).

The table becomes contentless (the text lives in `notes`); triggers keep it in step. The
token is ``p`` + hex(partition) + 64 zeros: always longer than 64 characters, so FTS5's porter
stemmer passes it through unchanged (it stems only tokens of 3..64 characters). PostgreSQL
is unchanged: its btree on `partition` and GIN on `search_tsv` already combine.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKEN = "'p' || hex({col}) || '{pad}'".replace("{pad}", "0" * 64)
NEW_T, OLD_T, ROW_T = (TOKEN.format(col=c) for c in ("new.partition", "old.partition", "partition"))

DROP = [
    "DROP TRIGGER IF EXISTS notes_fts_au",
    "DROP TRIGGER IF EXISTS notes_fts_ad",
    "DROP TRIGGER IF EXISTS notes_fts_ai",
    "DROP TABLE IF EXISTS notes_fts",
]
UP = [
    """CREATE VIRTUAL TABLE notes_fts USING fts5(
        search_text, ptoken,
        content='', tokenize='porter unicode61 remove_diacritics 2'
    )""",
    f"""CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts(rowid, search_text, ptoken)
        VALUES (new.pk, new.search_text, {NEW_T});
    END""",
    f"""CREATE TRIGGER notes_fts_ad AFTER DELETE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, search_text, ptoken)
        VALUES ('delete', old.pk, old.search_text, {OLD_T});
    END""",
    f"""CREATE TRIGGER notes_fts_au AFTER UPDATE OF search_text, partition ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, search_text, ptoken)
        VALUES ('delete', old.pk, old.search_text, {OLD_T});
        INSERT INTO notes_fts(rowid, search_text, ptoken)
        VALUES (new.pk, new.search_text, {NEW_T});
    END""",
    f"INSERT INTO notes_fts(rowid, search_text, ptoken) SELECT pk, search_text, {ROW_T} FROM notes",
]
# Back to revision 0003's external-content table.
DOWN = [
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for stmt in DROP + UP:
            op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for stmt in DROP + DOWN:
            op.execute(stmt)
