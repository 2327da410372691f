"""episodes by speaker: an index for recall's question "is this name a speaker here?".

A query that names someone ("What instruments does Melanie play?") is embedded without the
names of people who speak in the partition (`recall.speaker_free_query`); finding them is one
seek per name on (partition, name), whatever the partition's size, where the partition
index alone would walk every episode of the partition.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_episodes_partition_name", "episodes", ["partition", "name"])


def downgrade() -> None:
    op.drop_index("ix_episodes_partition_name", table_name="episodes")
