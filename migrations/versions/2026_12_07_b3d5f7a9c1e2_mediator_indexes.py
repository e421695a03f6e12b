"""A mediator's cases by index (issue 12.3): the home page's 我的在办 read every case the
person ever led, and a co-mediator's cases scanned the whole table. Written by hand.

Revision ID: b3d5f7a9c1e2
Revises: e780182819c5
Create Date: 2026-12-07 02:40:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3d5f7a9c1e2'
down_revision = 'e780182819c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.create_index('ix_case_record_lead_mediator_status', ['lead_mediator_id', 'status'], unique=False)
        batch_op.drop_index('ix_case_record_lead_mediator_id')  # the new index leads with the same column
    with op.batch_alter_table('case_co_mediator', schema=None) as batch_op:
        batch_op.create_index('ix_case_co_mediator_user_id', ['user_id', 'case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_co_mediator', schema=None) as batch_op:
        batch_op.drop_index('ix_case_co_mediator_user_id')
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.create_index('ix_case_record_lead_mediator_id', ['lead_mediator_id'], unique=False)
        batch_op.drop_index('ix_case_record_lead_mediator_status')
