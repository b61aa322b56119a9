"""the check's report of one draft on one day, kept for every worker to read

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'draft_reports',
        sa.Column('key', sa.String(length=64), primary_key=True),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('draft_reports')
