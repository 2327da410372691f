"""index change log: what each `partitions.version` bump changed, for replicas to catch up.

Several API processes on one database each hold per-partition vector indexes in memory. A
replica that sees a newer `partitions.version` applies the rows after its own version
(re-reading the named notes' vectors) instead of rebuilding the partition's indexes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_T = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "index_changes",
        sa.Column("partition", sa.String(600), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("upserted", JSON_T, nullable=True),
        sa.Column("removed", JSON_T, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partition"],
            ["partitions.key"],
            name=op.f("fk_index_changes_partition_partitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partition", "version", name=op.f("pk_index_changes")),
    )
    op.create_index(
        op.f("ix_index_changes_created_at"), "index_changes", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_index_changes_created_at"), table_name="index_changes")
    op.drop_table("index_changes")
