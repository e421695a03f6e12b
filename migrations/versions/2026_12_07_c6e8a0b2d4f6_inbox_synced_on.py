"""The inbox's look for things coming due reads what came due since the user's last look,
not the whole caseload (issue 12: 1.9 s and 35 MB for a mediator holding 5,100 cases).
Written by hand.

Revision ID: c6e8a0b2d4f6
Revises: b3d5f7a9c1e2
Create Date: 2026-12-07 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c6e8a0b2d4f6'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: SQLite (3.35+) adds and drops a column in place, where a
# batch would rebuild user_account under every table that refers to it.
def upgrade():
    op.add_column('user_account', sa.Column('inbox_synced_on', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('user_account', 'inbox_synced_on')
