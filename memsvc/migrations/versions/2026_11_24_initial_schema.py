"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 11:38:33.895148
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from memsvc.db.base import UTCDateTime

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were when this revision was written.
JSON_T = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
PK_T = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('episodes',
    sa.Column('pk', PK_T, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('namespace', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.String(length=600), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('agent_id', sa.String(length=255), nullable=True),
    sa.Column('session_id', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('event_time', UTCDateTime(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('metadata', JSON_T, nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_episodes')),
    sa.UniqueConstraint('id', name=op.f('uq_episodes_id'))
    )
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.create_index('ix_episodes_partition_session', ['partition', 'session_id'], unique=False)

    op.create_table('jobs',
    sa.Column('pk', PK_T, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('partition', sa.String(length=600), nullable=False),
    sa.Column('payload', JSON_T, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_status_run_after', ['status', 'run_after'], unique=False)

    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('note_history',
    sa.Column('pk', PK_T, autoincrement=True, nullable=False),
    sa.Column('note_id', sa.String(length=36), nullable=False),
    sa.Column('namespace', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.String(length=600), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('before', JSON_T, nullable=True),
    sa.Column('after', JSON_T, nullable=True),
    sa.Column('actor', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_note_history'))
    )
    with op.batch_alter_table('note_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_history_note_id'), ['note_id'], unique=False)
        batch_op.create_index('ix_note_history_partition', ['partition'], unique=False)

    op.create_table('notes',
    sa.Column('pk', PK_T, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('namespace', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.String(length=600), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('agent_id', sa.String(length=255), nullable=True),
    sa.Column('session_id', sa.String(length=255), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('keywords', JSON_T, nullable=False),
    sa.Column('tags', JSON_T, nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('facts', JSON_T, nullable=False),
    sa.Column('slots', JSON_T, nullable=False),
    sa.Column('metadata', JSON_T, nullable=False),
    sa.Column('episode_ids', JSON_T, nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=True),
    sa.Column('embed_model', sa.String(length=255), nullable=True),
    sa.Column('embed_dim', sa.Integer(), nullable=True),
    sa.Column('event_time', UTCDateTime(), nullable=False),
    sa.Column('valid_from', UTCDateTime(), nullable=False),
    sa.Column('valid_to', UTCDateTime(), nullable=True),
    sa.Column('superseded_by', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('enrichment', sa.String(length=16), nullable=False),
    sa.Column('strength', sa.Float(), nullable=False),
    sa.Column('last_recalled_at', UTCDateTime(), nullable=False),
    sa.Column('recall_count', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_notes')),
    sa.UniqueConstraint('id', name=op.f('uq_notes_id'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index('ix_notes_partition_hash', ['partition', 'content_hash'], unique=False)
        batch_op.create_index('ix_notes_partition_status', ['partition', 'status'], unique=False)
        batch_op.create_index('ix_notes_user', ['namespace', 'user_id'], unique=False)

    op.create_table('partitions',
    sa.Column('key', sa.String(length=600), nullable=False),
    sa.Column('namespace', sa.String(length=255), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_partitions'))
    )
    op.create_table('note_links',
    sa.Column('pk', PK_T, autoincrement=True, nullable=False),
    sa.Column('partition', sa.String(length=600), nullable=False),
    sa.Column('source_pk', sa.BigInteger(), nullable=False),
    sa.Column('target_pk', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['source_pk'], ['notes.pk'], name=op.f('fk_note_links_source_pk_notes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_pk'], ['notes.pk'], name=op.f('fk_note_links_target_pk_notes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_note_links')),
    sa.UniqueConstraint('source_pk', 'target_pk', 'kind', name='uq_note_links_edge')
    )
    with op.batch_alter_table('note_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_links_partition'), ['partition'], unique=False)
        batch_op.create_index(batch_op.f('ix_note_links_source_pk'), ['source_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_note_links_target_pk'), ['target_pk'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('note_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_note_links_target_pk'))
        batch_op.drop_index(batch_op.f('ix_note_links_source_pk'))
        batch_op.drop_index(batch_op.f('ix_note_links_partition'))

    op.drop_table('note_links')
    op.drop_table('partitions')
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index('ix_notes_user')
        batch_op.drop_index('ix_notes_partition_status')
        batch_op.drop_index('ix_notes_partition_hash')

    op.drop_table('notes')
    with op.batch_alter_table('note_history', schema=None) as batch_op:
        batch_op.drop_index('ix_note_history_partition')
        batch_op.drop_index(batch_op.f('ix_note_history_note_id'))

    op.drop_table('note_history')
    op.drop_table('meta')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_run_after')

    op.drop_table('jobs')
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.drop_index('ix_episodes_partition_session')

    op.drop_table('episodes')
