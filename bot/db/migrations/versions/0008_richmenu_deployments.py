"""the rich menus `tsunagu richmenu deploy` created at LINE

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'richmenu_deployments',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('rich_menu_id', sa.String(length=128), nullable=False, unique=True),
        sa.Column('checksum', sa.String(length=64), nullable=False),
        sa.Column('bundle_id', sa.String(length=32), nullable=False),
        sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deployed_by', sa.String(length=128), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_richmenu_deployments_checksum', 'richmenu_deployments', ['checksum'])


def downgrade() -> None:
    op.drop_index('ix_richmenu_deployments_checksum', table_name='richmenu_deployments')
    op.drop_table('richmenu_deployments')
