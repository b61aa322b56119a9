"""anonymous daily funnel counters per version and question

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'funnel_counts',
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('bundle_id', sa.String(length=32), primary_key=True),
        sa.Column('step', sa.String(length=64), primary_key=True),
        sa.Column('event', sa.String(length=16), primary_key=True),
        sa.Column('count', sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('funnel_counts')
