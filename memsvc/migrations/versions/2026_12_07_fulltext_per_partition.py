"""lexical statistics per partition on SQLite: a note's full-text terms are tagged with its
partition, so no tenant's words weigh in another tenant's ranking.

Before, every partition's words were tokens of one FTS5 table (with a partition token to
match on), and `bm25()` weighs a term by its document frequency in the whole table. Reproduced
on revision 0012 with the default embedded store: alice holds "We planned the Zeus launch for
the spring." and "We planned the garden party for the spring."; searching "zeus garden" she
got the Zeus note first (lexical score 1.0); after bob, another user of the same store, wrote
40 notes naming Zeus, the same search of hers gave the garden note first and the Zeus note a
lexical score of 0.0. Her results told her what other tenants' memories say.

Now the table indexes ``<tag><stem>`` for each word (`memsvc.db.fulltext_terms`: the tag is a
64-bit hash of the partition, the terms are made in Python by the SQL function
``memsvc_fts_terms`` that memsvc registers on every SQLite connection). Each partition's terms
are its own tokens: document frequencies count its notes only, and a query reads only its
doclists; the ranking takes the number of notes from the partition too
(`memsvc.db.queries.fulltext`), leaving only the table's size (its mean note length in bm25's
length normalisation, its row count in which candidates FTS5 proposes). The table stores its
terms (not contentless), so triggers delete by rowid. PostgreSQL is unchanged: `ts_rank_cd`
reads only the document itself.

Writing notes with another SQLite client (the ``sqlite3`` shell) now fails in the triggers
("no such function"): memsvc's connections have the function. The rebuild of existing notes
runs the tokenizer once a note (about 1 s for 30,000 notes on 2 cores).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROP = [
    "DROP TRIGGER IF EXISTS notes_fts_au",
    "DROP TRIGGER IF EXISTS notes_fts_ad",
    "DROP TRIGGER IF EXISTS notes_fts_ai",
    "DROP TABLE IF EXISTS notes_fts",
]
UP = [
    """CREATE VIRTUAL TABLE notes_fts USING fts5(terms, tokenize='unicode61')""",
    """CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts(rowid, terms)
        VALUES (new.pk, memsvc_fts_terms(new.partition, new.search_text));
    END""",
    """CREATE TRIGGER notes_fts_ad AFTER DELETE ON notes BEGIN
        DELETE FROM notes_fts WHERE rowid = old.pk;
    END""",
    """CREATE TRIGGER notes_fts_au AFTER UPDATE OF search_text, partition ON notes BEGIN
        DELETE FROM notes_fts WHERE rowid = old.pk;
        INSERT INTO notes_fts(rowid, terms)
        VALUES (new.pk, memsvc_fts_terms(new.partition, new.search_text));
    END""",
    "INSERT INTO notes_fts(rowid, terms) "
    "SELECT pk, memsvc_fts_terms(partition, search_text) FROM notes",
]
# Back to revision 0005's table: every tenant's words, and the partition as a token.
_TOKEN = "'p' || hex({col}) || '" + "0" * 64 + "'"
_NEW, _OLD, _ROW = (_TOKEN.format(col=c) for c in ("new.partition", "old.partition", "partition"))
DOWN = [
    """CREATE VIRTUAL TABLE notes_fts USING fts5(
        search_text, ptoken,
        content='', tokenize='porter unicode61 remove_diacritics 2'
    )""",
    f"""CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts(rowid, search_text, ptoken)
        VALUES (new.pk, new.search_text, {_NEW});
    END""",
    f"""CREATE TRIGGER notes_fts_ad AFTER DELETE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, search_text, ptoken)
        VALUES ('delete', old.pk, old.search_text, {_OLD});
    END""",
    f"""CREATE TRIGGER notes_fts_au AFTER UPDATE OF search_text, partition ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, search_text, ptoken)
        VALUES ('delete', old.pk, old.search_text, {_OLD});
        INSERT INTO notes_fts(rowid, search_text, ptoken)
        VALUES (new.pk, new.search_text, {_NEW});
    END""",
    f"INSERT INTO notes_fts(rowid, search_text, ptoken) SELECT pk, search_text, {_ROW} FROM notes",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for stmt in DROP + UP:
            op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for stmt in DROP + DOWN:
            op.execute(stmt)
