"""Agreements with their terms and judicial confirmation; the interim agreement_summary
column of cases goes (the agreement holds what was agreed).

Revision ID: 749213d2fc97
Revises: b125610a6e66
Create Date: 2026-11-29 01:46:14.536981

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '749213d2fc97'
down_revision = 'b125610a6e66'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('written', 'oral', name='agreementkind', native_enum=False, length=16), nullable=False),
    sa.Column('reached_on', sa.Date(), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('disputed_points', sa.Text(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('confirmation', sa.Enum('not_applied', 'applied', 'confirmed', 'rejected', name='confirmation', native_enum=False, length=16), nullable=False),
    sa.Column('confirmation_applied_on', sa.Date(), nullable=True),
    sa.Column('confirmation_decided_on', sa.Date(), nullable=True),
    sa.Column('confirmation_court', sa.String(length=100), nullable=False),
    sa.Column('confirmation_note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_agreement_case_id_case_record')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_agreement_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement')),
    sa.UniqueConstraint('case_id', name=op.f('uq_agreement_case_id'))
    )
    op.create_table('agreement_term',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('method', sa.String(length=500), nullable=False),
    sa.Column('deadline', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_agreement_term_agreement_id_agreement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_term'))
    )
    with op.batch_alter_table('agreement_term', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_term_agreement_id'), ['agreement_id'], unique=False)

    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('agreement_summary')



def downgrade():
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreement_summary', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('agreement_term', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_term_agreement_id'))

    op.drop_table('agreement_term')
    op.drop_table('agreement')
