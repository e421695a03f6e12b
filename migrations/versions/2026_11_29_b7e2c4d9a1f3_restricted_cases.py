"""Restricted cases: a flag on the case and the users named to see it. Written by hand.

Revision ID: b7e2c4d9a1f3
Revises: 3c1e7a9d5b42
Create Date: 2026-11-29 04:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b7e2c4d9a1f3'
down_revision = '3c1e7a9d5b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restricted', sa.Boolean(), server_default='0', nullable=False))
    op.create_table('case_access',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_access_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_access_user_id_user_account')),
    sa.PrimaryKeyConstraint('case_id', 'user_id', name=op.f('pk_case_access'))
    )


def downgrade():
    op.drop_table('case_access')
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('restricted')
