"""Statistics: monthly confirmations (零报告) and the indexes the dashboard's GROUP BY
queries use (holder + intake date, acceptance, conclusion and close times, escalation
decisions, referral dates). Written by hand.

Revision ID: 7a798c2cbccd
Revises: ed08d2c82805
Create Date: 2026-11-29 14:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7a798c2cbccd'
down_revision = 'ed08d2c82805'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_case_record_unit_intake", "case_record", ["unit_id", "intake_date"]),
    ("ix_case_record_accepted_at", "case_record", ["accepted_at"]),
    ("ix_case_record_concluded_at", "case_record", ["concluded_at"]),
    ("ix_case_record_closed_at", "case_record", ["closed_at"]),
    ("ix_case_transfer_decided_at", "case_transfer", ["decided_at"]),
    ("ix_case_referral_referred_on", "case_referral", ["referred_on"]),
)


def upgrade():
    op.create_table('monthly_confirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.Column('had_cases', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user_account.id'],
                            name=op.f('fk_monthly_confirmation_confirmed_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_monthly_confirmation_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_confirmation')),
    sa.UniqueConstraint('unit_id', 'month', name='uq_monthly_confirmation_unit_month')
    )
    op.create_index(op.f('ix_monthly_confirmation_month'), 'monthly_confirmation', ['month'], unique=False)
    for name, table, cols in INDEXES:
        op.create_index(name, table, cols, unique=False)


def downgrade():
    for name, table, _cols in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index(op.f('ix_monthly_confirmation_month'), table_name='monthly_confirmation')
    op.drop_table('monthly_confirmation')
