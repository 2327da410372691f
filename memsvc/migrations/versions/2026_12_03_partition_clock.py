"""partition clock: one time base for decay, reinforcement and searches without `as_of`.

`partitions.clock` holds the latest event time (or recall) a partition has seen, advanced in
the transaction that writes it. Existing partitions are filled from their episodes and notes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partitions") as batch:
        batch.add_column(sa.Column("clock", sa.DateTime(timezone=True), nullable=True))
    # Same text or timestamp representation as the source columns on each backend.
    op.execute(
        """UPDATE partitions SET clock = (
            SELECT MAX(t) FROM (
                SELECT MAX(event_time) AS t FROM episodes WHERE episodes.partition = partitions.key
                UNION ALL
                SELECT MAX(last_recalled_at) AS t FROM notes WHERE notes.partition = partitions.key
            ) AS times
        )"""
    )


def downgrade() -> None:
    with op.batch_alter_table("partitions") as batch:
        batch.drop_column("clock")
