"""note slots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 11:52:52.103378
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK_T = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('note_slots',
    sa.Column('pk', PK_T, autoincrement=True, nullable=False),
    sa.Column('partition', sa.String(length=600), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('note_pk', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['note_pk'], ['notes.pk'], name=op.f('fk_note_slots_note_pk_notes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_note_slots'))
    )
    with op.batch_alter_table('note_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_slots_note_pk'), ['note_pk'], unique=False)
        batch_op.create_index('ix_note_slots_partition_name', ['partition', 'name'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('note_slots', schema=None) as batch_op:
        batch_op.drop_index('ix_note_slots_partition_name')
        batch_op.drop_index(batch_op.f('ix_note_slots_note_pk'))

    op.drop_table('note_slots')
