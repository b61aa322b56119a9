"""content versions editors publish, the version each channel answers with, staging referrals

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'content_versions',
        sa.Column('number', sa.Integer(), primary_key=True),
        sa.Column('bundle_id', sa.String(length=32), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('author', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_content_versions_bundle_id', 'content_versions', ['bundle_id'])
    op.create_table(
        'content_pointers',
        sa.Column('channel', sa.String(length=16), primary_key=True),
        sa.Column('number', sa.Integer(), sa.ForeignKey('content_versions.number'),
                  nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_by', sa.String(length=128), nullable=False),
    )
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.add_column(sa.Column('staging', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.drop_column('staging')
    op.drop_table('content_pointers')
    op.drop_index('ix_content_versions_bundle_id', 'content_versions')
    op.drop_table('content_versions')
