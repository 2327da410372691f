"""note parts: sentence-level parts of a note and their embeddings (notes.part_texts,
notes.part_embeddings), indexed in a second per-partition vector index so recall can score a
long round on its best-matching sentence. Existing notes simply have no parts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_T = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): SQLite's FTS5 triggers on `notes` stay untouched.
    op.add_column("notes", sa.Column("part_texts", JSON_T, nullable=True))
    op.add_column("notes", sa.Column("part_embeddings", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops columns in place; the FTS5 triggers do not reference these.
    op.drop_column("notes", "part_embeddings")
    op.drop_column("notes", "part_texts")
