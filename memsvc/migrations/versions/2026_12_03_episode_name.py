"""episode speaker name: the optional `name` of a message (as in OpenAI chat messages), kept
with the verbatim episode so conversations between people or in a group keep who said what.
Existing episodes simply have no name.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: nullable, no default, so no table copy on either backend.
    op.add_column("episodes", sa.Column("name", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("episodes", "name")
