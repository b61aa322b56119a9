"""console sessions end at logout: each account's session epoch

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Sessions are signed cookies; their id now names the account's epoch, which logout, a new
password and disabling raise, so a copied cookie stops working then. Sessions made before
this migration name no epoch and end at their next request (their users log in again).
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('console_users') as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('console_users') as batch_op:
        batch_op.drop_column('session_epoch')
