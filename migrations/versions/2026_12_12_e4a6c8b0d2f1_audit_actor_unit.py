"""The audit log keeps the unit its actor worked in when each event was written, so that a
district's log stays that district's when a person moves to another district (issue 12: many
districts in one deployment). Written by hand.

The column is hashed only when set (audit.services.canonical): events written before it
existed keep their hashes and are not filled in (the log is append-only); the viewer places
them by where their actor works now, as before.

Revision ID: e4a6c8b0d2f1
Revises: d8f2a4c6e1b3
Create Date: 2026-12-12 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4a6c8b0d2f1'
down_revision = 'd8f2a4c6e1b3'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: SQLite (3.35+) adds and drops a column in place.
def upgrade():
    op.add_column('audit_event', sa.Column('actor_unit_id', sa.Integer(), nullable=True))


def downgrade():
    # An event written since covers its unit in its hash: after this, `flask audit verify`
    # reports the first of them as changed. Upgrading again puts the column back empty, so
    # a downgrade is for a development database, not for a log that must stand as proof.
    op.drop_column('audit_event', 'actor_unit_id')
