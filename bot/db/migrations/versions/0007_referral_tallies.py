"""monthly referral tallies, kept with each referral, so counts need not read every record

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

The tallies of the referrals already stored are counted here from the records, the way the
conversation store adds them for each new one (bot/referrals/tallies.py).
"""

from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

KEY = ('month', 'bundle_id', 'staging', 'flow', 'subject', 'kind', 'field', 'value')


def _backfill(tallies: sa.Table) -> None:
    conn = op.get_bind()
    referrals = sa.table('referrals', sa.column('id', sa.Integer), sa.column('month', sa.Date),
                         sa.column('bundle_id', sa.String), sa.column('staging', sa.Boolean),
                         sa.column('flow', sa.String), sa.column('answers', sa.JSON))
    targets = sa.table('referral_targets', sa.column('referral_id', sa.Integer),
                       sa.column('kind', sa.String), sa.column('code', sa.String))
    named: dict[int, list[tuple[str, str]]] = {}
    for referral_id, kind, code in conn.execute(sa.select(targets)):
        named.setdefault(referral_id, []).append((kind, code))
    counted: Counter = Counter()
    for row in conn.execute(sa.select(referrals)):
        answers = row.answers or {}
        group = (row.month, row.bundle_id, bool(row.staging), row.flow,
                 str(answers.get('subject') or ''))
        found = {('referral', '', ''),
                 *((kind, '', code) for kind, code in named.get(row.id, [])),
                 *(('answer', field, str(value)) for field, value in answers.items()
                   if value is not None)}
        if any(kind == 'office' for kind, _, _ in found):
            found.add(('with_office', '', ''))
        counted.update((*group, *tally) for tally in found)
    rows = [{**dict(zip(KEY, key, strict=True)), 'count': n} for key, n in counted.items()]
    for start in range(0, len(rows), 5000):
        conn.execute(tallies.insert(), rows[start:start + 5000])


def upgrade() -> None:
    tallies = op.create_table(
        'referral_tallies',
        sa.Column('month', sa.Date(), primary_key=True),
        sa.Column('bundle_id', sa.String(length=32), primary_key=True),
        sa.Column('staging', sa.Boolean(), primary_key=True),
        sa.Column('flow', sa.String(length=32), primary_key=True),
        sa.Column('subject', sa.Text(), primary_key=True),
        sa.Column('kind', sa.String(length=16), primary_key=True),
        sa.Column('field', sa.Text(), primary_key=True),
        sa.Column('value', sa.Text(), primary_key=True),
        sa.Column('count', sa.Integer(), nullable=False),
    )
    _backfill(tallies)


def downgrade() -> None:
    op.drop_table('referral_tallies')
