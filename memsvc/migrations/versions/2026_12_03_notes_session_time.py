"""notes by conversation and by time: indexes for recall's neighbour and time-range stages.

Recall reads the notes of the best hits' conversations (`partition`, `session_id`, ordered by
`event_time`) and the notes of the time range a query names (`partition`, `event_time`).
Without these, both statements walked the whole partition in ix_notes_partition_status:
their cost grew with the partition (25 ms at 1.9k notes for the time range).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notes_partition_session", "notes", ["partition", "session_id", "event_time"]
    )
    op.create_index("ix_notes_partition_event_time", "notes", ["partition", "event_time"])


def downgrade() -> None:
    op.drop_index("ix_notes_partition_event_time", table_name="notes")
    op.drop_index("ix_notes_partition_session", table_name="notes")
