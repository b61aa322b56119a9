"""the editors' draft in the database, and each save of one of its items

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'draft_files',
        sa.Column('name', sa.String(length=128), primary_key=True),
        sa.Column('text', sa.Text(), nullable=False),
    )
    op.create_table(
        'draft_saves',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('who', sa.String(length=64), nullable=False),
        sa.Column('file', sa.String(length=128), nullable=False),
        sa.Column('item', sa.String(length=128), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('after', sa.JSON(), nullable=False),
    )
    op.create_index('ix_draft_saves_item', 'draft_saves', ['item'])


def downgrade() -> None:
    op.drop_index('ix_draft_saves_item', table_name='draft_saves')
    op.drop_table('draft_saves')
    op.drop_table('draft_files')
