"""Statistics from aggregates (issue 12.4): stat_cell, counted from the cases already there.
Written by hand.

Revision ID: a7c3e9f1d2b4
Revises: f13a5c7e9b02
Create Date: 2026-12-08 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e9f1d2b4'
down_revision = 'a7c1d2e3f4b5'
branch_labels = None
depends_on = None

MEASURES = (
    "registered", "amount_disputed", "people", "dv", "major", "mass",
    "band_1_4", "band_5_9", "band_10_29", "band_30",
    "accepted", "success", "partial", "failed", "terminated", "amount_agreed",
    "closed", "closed_with_acceptance", "closed_seconds",
    "referred", "follow_ups", "sat_satisfied", "sat_basically", "sat_unsatisfied",
    "escalated_out", "escalated_in",
    "in_progress", "open_due",
)


def upgrade():
    from mediation.stats.aggregates import rebuild

    op.create_table('stat_cell',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('via_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    *[sa.Column(m, sa.BigInteger(), server_default='0', nullable=False) for m in MEASURES],
    sa.PrimaryKeyConstraint('unit_id', 'grain', 'day', 'via_id', 'tier', 'category_id', name=op.f('pk_stat_cell'))
    )
    # Backfill: the figures of the cases already there (the app's own counting code).
    rebuild(op.get_bind())


def downgrade():
    op.drop_table('stat_cell')
