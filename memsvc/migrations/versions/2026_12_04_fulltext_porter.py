"""lexical search on PostgreSQL stems with Porter, as Python and SQLite do (issue 18 item 5).

`memsvc.text.tokenize.stem` is Snowball's ``porter`` and SQLite's FTS5 index uses the
``porter`` tokenizer; PostgreSQL indexed `notes.search_tsv` with the ``english`` configuration
(Snowball's Porter2), which stems 590 of the 15,815 words (stop words aside) of the LongMemEval
sample's turns differently ("menus" -> "menus", Porter "menu"; "friendly" -> "friend", Porter
"friendli"). This revision creates a
Snowball ``porter`` dictionary (the English stop words, as ``english_stem`` has) and a
configuration ``memsvc_porter`` copied from ``english`` with the same token types mapped to it
(asciiword, asciihword, hword_asciipart, word, hword, hword_part: the ones ``english`` maps to
``english_stem``; numbers, URLs, e-mails stay ``simple``), then re-creates the generated column
and its GIN index with ``to_tsvector('memsvc_porter', search_text)``. The queries
(`memsvc.db.queries.fulltext.TS_CONFIG`) name the same configuration, so deploy the code with
the migration: older code queries with ``english`` and misses the words the two stem apart.

The dictionary and configuration are created in the current schema (the first of the
search_path, like the tables), and only when missing. SQLite: nothing to do (FTS5's porter).

Large tables: PostgreSQL cannot change a generated column's expression in place (before 17),
so the column is dropped and added again, which recomputes every note's tsvector in a rewrite
of the whole `notes` table under an ACCESS EXCLUSIVE lock (reads and writes of notes wait),
then the GIN index is built again. Measured on PostgreSQL 15 (a 2-core machine shared with
other work): 16-18 s for 100,000 notes of 200 characters of chat words (118 MB), upgrade or
downgrade alike; plan a maintenance window in proportion for large stores.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported from memsvc: a revision must keep doing what it did when the code
# around it changes.
CONFIG = "memsvc_porter"
STEMMED = "asciiword, asciihword, hword_asciipart, word, hword, hword_part"

CREATE = [
    f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = '{CONFIG}'
                       AND dictnamespace = current_schema()::regnamespace) THEN
            CREATE TEXT SEARCH DICTIONARY {CONFIG}
                (TEMPLATE = snowball, Language = porter, StopWords = english);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{CONFIG}'
                       AND cfgnamespace = current_schema()::regnamespace) THEN
            CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english);
        END IF;
    END $$""",
    # Always: an existing configuration of that name ends up mapped as this one.
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR {STEMMED} WITH {CONFIG}",
]
DROP = [
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}",
    f"DROP TEXT SEARCH DICTIONARY IF EXISTS {CONFIG}",
]


def _column(config: str) -> list[str]:
    """Re-create the generated tsvector column and its GIN index over `config`."""
    return [
        "DROP INDEX IF EXISTS ix_notes_search_tsv",
        "ALTER TABLE notes DROP COLUMN IF EXISTS search_tsv",
        f"""ALTER TABLE notes ADD COLUMN search_tsv tsvector
            GENERATED ALWAYS AS (to_tsvector('{config}', search_text)) STORED""",
        "CREATE INDEX ix_notes_search_tsv ON notes USING gin (search_tsv)",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for stmt in CREATE + _column(CONFIG):
            op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for stmt in _column("english") + DROP:
            op.execute(stmt)
