"""note keys are never reused on SQLite; idempotency keys for retried adds.

1. SQLite gives a table without AUTOINCREMENT ``max(rowid) + 1``: deleting the newest note
   and adding another handed its pk to the new note, and every cache keyed by pk (vector
   indexes, the link graph) could then name an unrelated memory, another tenant's included.
   `notes` is rebuilt with AUTOINCREMENT. The rebuild drops the old table, which fires
   foreign-key cascades (the connection runs with foreign_keys=ON inside the migration's
   transaction, where the pragma cannot change) and the full-text triggers: the dependent
   rows are kept aside and put back, and the triggers are recreated on the new table. The
   contentless FTS5 table keeps its rows, since pks are preserved. PostgreSQL identity
   columns never reuse values: nothing to do there.
2. `idempotency_keys`: an add's answer stored in the add's own transaction.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Revision 0005's triggers, as they were (migrations are frozen snapshots).
TOKEN = "'p' || hex({col}) || '{pad}'".replace("{pad}", "0" * 64)
NEW_T, OLD_T = (TOKEN.format(col=c) for c in ("new.partition", "old.partition"))
TRIGGER_NAMES = ("notes_fts_ai", "notes_fts_ad", "notes_fts_au")
TRIGGERS = [
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
]
DEPENDENTS = ("note_links", "note_slots")  # ON DELETE CASCADE children of notes


def _rebuild_notes_with_autoincrement() -> None:
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in DEPENDENTS:
        op.execute(f"CREATE TEMP TABLE keep_{table} AS SELECT * FROM {table}")
    with op.batch_alter_table(
        "notes", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    for table in DEPENDENTS:
        op.execute(f"DELETE FROM {table}")  # empty already (cascade); explicit for clarity
        op.execute(f"INSERT INTO {table} SELECT * FROM keep_{table}")
        op.execute(f"DROP TABLE keep_{table}")
    for stmt in TRIGGERS:
        op.execute(stmt)


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column(
            "response",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "key", name=op.f("pk_idempotency_keys")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_notes_with_autoincrement()


def downgrade() -> None:
    # AUTOINCREMENT stays: it only ever prevents reuse, which no earlier revision relies on.
    op.drop_table("idempotency_keys")
