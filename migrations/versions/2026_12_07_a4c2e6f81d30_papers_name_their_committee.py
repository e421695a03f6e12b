"""Papers name the committee that produced them (issue 14, points 6 and 12): the agreement
keeps the unit that wrote it, a delegated visit's diary entry the unit given the visit, and a
follow-up records its findings per term of the agreement. Written by hand.

The agreement's unit is taken from the case's holdings (the unit holding it when the
agreement was last saved), else the case's holder; a diary entry that completed a delegated
visit gets the delegation's unit. Entries written before keep the unit that held the case.

SQLite: adding a NOT NULL column with a foreign key rebuilds the agreement table, and with
foreign keys on, dropping the old table deletes its terms (ON DELETE CASCADE): they are
kept aside and put back (``_keeping_terms``). The diary's new column is added and dropped in
place (no rebuild: other tables refer to diary_entry).

Revision ID: a4c2e6f81d30
Revises: f13a5c7e9b02
Create Date: 2026-12-07 09:00:00.000000

"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a4c2e6f81d30'
down_revision = 'a7c3e9f1d2b4'
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
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
    op.execute(sa.text(
        "UPDATE agreement SET unit_id = COALESCE("
        " (SELECT h.unit_id FROM case_holding h WHERE h.case_id = agreement.case_id"
        "  AND h.since <= COALESCE(agreement.updated_at, agreement.created_at)"
        "  ORDER BY h.since DESC, h.id DESC LIMIT 1),"
        " (SELECT c.unit_id FROM case_record c WHERE c.id = agreement.case_id))"))
    with _keeping_terms(), op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_agreement_unit_id_org_unit'), 'org_unit', ['unit_id'], ['id'])
    op.execute(sa.text(
        "UPDATE diary_entry SET unit_id = (SELECT d.unit_id FROM case_delegation d WHERE d.entry_id = diary_entry.id"
        " ORDER BY d.id LIMIT 1)"
        " WHERE id IN (SELECT entry_id FROM case_delegation WHERE entry_id IS NOT NULL)"))
    op.add_column('diary_entry', sa.Column('term_performance', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE diary_entry DROP COLUMN term_performance")  # in place (SQLite 3.35+)
    else:
        op.drop_column('diary_entry', 'term_performance')
    with _keeping_terms(), op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_agreement_unit_id_org_unit'), type_='foreignkey')
        batch_op.drop_column('unit_id')
