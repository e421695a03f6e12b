"""The inbox's look remembers when it last looked, not only the day: a later look the same
day reads what changed since then (minutes), not since the day before (issue 12: seconds
for a generated mediator with 2,000 items due within a week). Written by hand.

Revision ID: d8f2a4c6e1b3
Revises: c6e8a0b2d4f6
Create Date: 2026-12-11 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd8f2a4c6e1b3'
down_revision = 'c6e8a0b2d4f6'
branch_labels = None
depends_on = None

from datetime import date, datetime, time, timedelta

user_account = sa.table('user_account', sa.column('id', sa.Integer()), sa.column('inbox_synced_on', sa.Date()),
                        sa.column('inbox_synced_at', sa.DateTime()))


def _copy(source, target, convert):
    """Done in Python, the same on both databases (one row per user account at most)."""
    conn = op.get_bind()
    for uid, value in conn.execute(sa.select(user_account.c.id, source).where(source.is_not(None))).all():
        conn.execute(user_account.update().where(user_account.c.id == uid).values({target: convert(value)}))


# Plain ALTER TABLE, not a batch: SQLite (3.35+) adds and drops a column in place, where a
# batch would rebuild user_account under every table that refers to it.
def upgrade():
    op.add_column('user_account', sa.Column('inbox_synced_at', sa.DateTime(), nullable=True))
    # The day of the last look as the start of the day before it, in UTC (China is UTC+8):
    # the next look reads a little more than it must, never less.
    _copy(user_account.c.inbox_synced_on, user_account.c.inbox_synced_at,
          lambda day: datetime.combine(day, time()) - timedelta(days=1))
    op.drop_column('user_account', 'inbox_synced_on')


def downgrade():
    op.add_column('user_account', sa.Column('inbox_synced_on', sa.Date(), nullable=True))
    _copy(user_account.c.inbox_synced_at, user_account.c.inbox_synced_on,
          lambda at: at.date() if isinstance(at, datetime) else date.fromisoformat(str(at)[:10]))
    op.drop_column('user_account', 'inbox_synced_at')
