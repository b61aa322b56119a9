"""bundle ids on conversations and referrals; referral answers as one JSON object

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

The flow's step ids become the answer fields: a referral keeps {step id: option value} instead
of one column per question, so adding a question needs no migration.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OLD_COLUMNS = ("subject", "age_band", "employment", "single_parent", "hikikomori", "area")


def upgrade() -> None:
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.alter_column('flow_version', new_column_name='bundle_id',
                              existing_type=sa.String(32), existing_nullable=False)
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.alter_column('content_version', new_column_name='bundle_id',
                              existing_type=sa.String(32), existing_nullable=False)
        batch_op.add_column(sa.Column('flow', sa.String(32), nullable=True))
        batch_op.add_column(sa.Column('answers', sa.JSON(), nullable=True))

    conn = op.get_bind()
    referrals = sa.table('referrals', sa.column('id', sa.Integer), sa.column('flow', sa.String),
                         sa.column('answers', sa.JSON),
                         *(sa.column(name) for name in OLD_COLUMNS))
    rows = conn.execute(sa.select(referrals.c.id, *(referrals.c[n] for n in OLD_COLUMNS)))
    for row in rows.mappings().all():
        answers = {"subject": row["subject"], "age": row["age_band"],
                   "employment": row["employment"],
                   "single_parent": "yes" if row["single_parent"] else "no",
                   "hikikomori": row["hikikomori"], "area": row["area"]}
        conn.execute(referrals.update().where(referrals.c.id == row["id"]).values(
            flow="questionnaire", answers={k: v for k, v in answers.items() if v}))

    with op.batch_alter_table('referrals') as batch_op:
        batch_op.alter_column('flow', existing_type=sa.String(32), nullable=False)
        batch_op.alter_column('answers', existing_type=sa.JSON(), nullable=False)
        for name in OLD_COLUMNS:
            batch_op.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('age_band', sa.String(16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('employment', sa.String(32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('single_parent', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('hikikomori', sa.String(16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('area', sa.String(32), nullable=False, server_default=''))
    conn = op.get_bind()
    referrals = sa.table('referrals', sa.column('id', sa.Integer), sa.column('answers', sa.JSON),
                         *(sa.column(name) for name in OLD_COLUMNS))
    for row in conn.execute(sa.select(referrals.c.id, referrals.c.answers)).all():
        answers = row.answers if isinstance(row.answers, dict) else json.loads(row.answers)
        conn.execute(referrals.update().where(referrals.c.id == row.id).values(
            subject=answers.get("subject", ""), age_band=answers.get("age", ""),
            employment=answers.get("employment", ""),
            single_parent=answers.get("single_parent") == "yes",
            hikikomori=answers.get("hikikomori", ""), area=answers.get("area", "")))
    with op.batch_alter_table('referrals') as batch_op:
        batch_op.drop_column('answers')
        batch_op.drop_column('flow')
        batch_op.alter_column('bundle_id', new_column_name='content_version',
                              existing_type=sa.String(32), existing_nullable=False)
    with op.batch_alter_table('conversations') as batch_op:
        batch_op.alter_column('bundle_id', new_column_name='flow_version',
                              existing_type=sa.String(32), existing_nullable=False)
