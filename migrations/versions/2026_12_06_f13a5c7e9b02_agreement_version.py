"""Optimistic locking of the agreement: its version and who saved it last (issue 13.5).
Written by hand.

SQLite rebuilds the agreement table for the foreign key; with foreign keys on, dropping the
old table deleted the agreements' terms (ON DELETE CASCADE). They are kept aside and put
back (issue 14: found when a4c2e6f81d30 did the same).

Revision ID: f13a5c7e9b02
Revises: e13b4c5d6e7f
Create Date: 2026-12-06 18:00:00.000000

"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f13a5c7e9b02'
down_revision = 'e13b4c5d6e7f'
branch_labels = None
depends_on = None


@contextmanager
def _keeping_terms():
    """Around a rebuild of ``agreement`` on SQLite: its terms survive the DROP TABLE."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TABLE IF EXISTS temp._kept_agreement_term")
        op.execute("CREATE TEMP TABLE _kept_agreement_term AS SELECT * FROM agreement_term")
    yield
    if sqlite:
        op.execute("INSERT INTO agreement_term SELECT * FROM temp._kept_agreement_term"
                   " WHERE id NOT IN (SELECT id FROM agreement_term)")
        op.execute("DROP TABLE temp._kept_agreement_term")


def upgrade():
    with _keeping_terms(), op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_agreement_updated_by_id_user_account'), 'user_account',
                                    ['updated_by_id'], ['id'])


def downgrade():
    with _keeping_terms(), op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_agreement_updated_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('version')
        batch_op.drop_column('updated_by_id')
