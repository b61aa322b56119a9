"""referrals keep the month they were made in, not the day

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

The counts need no finer time; a day, with a small municipality and a few answers, could point
to one household.
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _copy(source: str, target: str, first_of_month: bool) -> None:
    conn = op.get_bind()
    referrals = sa.table('referrals', sa.column('id', sa.Integer),
                         sa.column(source, sa.Date), sa.column(target, sa.Date))
    for row in conn.execute(sa.select(referrals.c.id, referrals.c[source])).all():
        value = row[1].replace(day=1) if first_of_month else row[1]
        conn.execute(referrals.update().where(referrals.c.id == row[0]).values({target: value}))


def upgrade() -> None:
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.add_column(sa.Column('month', sa.Date(), nullable=True))
    _copy('day', 'month', first_of_month=True)
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.alter_column('month', existing_type=sa.Date(), nullable=False)
        batch_op.drop_index('ix_referrals_day')
        batch_op.drop_column('day')
        batch_op.create_index(batch_op.f('ix_referrals_month'), ['month'], unique=False)


def downgrade() -> None:
    # The days are gone; each referral comes back on the first day of its month.
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.add_column(sa.Column('day', sa.Date(), nullable=True))
    _copy('month', 'day', first_of_month=False)
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.alter_column('day', existing_type=sa.Date(), nullable=False)
        batch_op.drop_index('ix_referrals_month')
        batch_op.drop_column('month')
        batch_op.create_index(batch_op.f('ix_referrals_day'), ['day'], unique=False)
