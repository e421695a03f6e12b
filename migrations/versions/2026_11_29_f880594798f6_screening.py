"""Domestic-violence safety screening: screenings (kept as written), safety plans and the
history of each case's risk level.

Revision ID: f880594798f6
Revises: ed08d2c82805
Create Date: 2026-11-29 03:50:09.755914

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f880594798f6'
down_revision = 'ed08d2c82805'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('safety_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_safety_plan_by_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_safety_plan_case_id_case_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_plan'))
    )
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_plan_case_id'), ['case_id'], unique=False)

    op.create_table('screening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('occasion', sa.Enum('intake', 'pre_session', 'incident', 'separation', 'pre_signing', 'closure', 'follow_up', name='occasion', native_enum=False, length=16), nullable=False),
    sa.Column('asked_alone', sa.Boolean(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('unsafe_tonight', sa.Boolean(), nullable=False),
    sa.Column('breach', sa.Boolean(), nullable=False),
    sa.Column('child_harmed', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=1), nullable=False),
    sa.Column('level', sa.Enum('none', 'yellow', 'orange', 'red', name='risklevel', native_enum=False, length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_screening_by_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_screening_case_id_case_record')),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_screening_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening'))
    )
    with op.batch_alter_table('screening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_party_id'), ['party_id'], unique=False)

    op.create_table('risk_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_level', sa.Enum('none', 'yellow', 'orange', 'red', name='risklevel', native_enum=False, length=16), nullable=False),
    sa.Column('to_level', sa.Enum('none', 'yellow', 'orange', 'red', name='risklevel', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_risk_change_by_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_risk_change_case_id_case_record')),
    sa.ForeignKeyConstraint(['screening_id'], ['screening.id'], name=op.f('fk_risk_change_screening_id_screening')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_change'))
    )
    with op.batch_alter_table('risk_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_change_case_id'), ['case_id'], unique=False)



def downgrade():
    with op.batch_alter_table('risk_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_change_case_id'))

    op.drop_table('risk_change')
    with op.batch_alter_table('screening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_party_id'))
        batch_op.drop_index(batch_op.f('ix_screening_case_id'))

    op.drop_table('screening')
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_plan_case_id'))

    op.drop_table('safety_plan')
