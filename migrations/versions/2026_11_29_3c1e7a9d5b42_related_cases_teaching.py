"""Related cases (indexes on the party columns they match on) and e家学 teaching
cases (以案释法). Written by hand.

Revision ID: 3c1e7a9d5b42
Revises: 7a798c2cbccd, f880594798f6
Create Date: 2026-11-29 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3c1e7a9d5b42'
down_revision = ('7a798c2cbccd', 'f880594798f6')
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.create_index('ix_party_name_birth_date', ['name', 'birth_date'], unique=False)
        batch_op.create_index('ix_party_name_phone', ['name', 'phone'], unique=False)

    op.create_table('teaching_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_case_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('process', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('legal_point', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'published', 'rejected', name='teachingstatus',
                                native_enum=False, length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_teaching_case_author_id_user_account')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_teaching_case_category_id_category')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'],
                            name=op.f('fk_teaching_case_reviewer_id_user_account')),
    sa.ForeignKeyConstraint(['source_case_id'], ['case_record.id'],
                            name=op.f('fk_teaching_case_source_case_id_case_record'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teaching_case'))
    )
    with op.batch_alter_table('teaching_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teaching_case_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_teaching_case_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_teaching_case_source_case_id'), ['source_case_id'], unique=False)
        batch_op.create_index('ix_teaching_case_status_category', ['status', 'category_id'], unique=False)


def downgrade():
    with op.batch_alter_table('teaching_case', schema=None) as batch_op:
        batch_op.drop_index('ix_teaching_case_status_category')
        batch_op.drop_index(batch_op.f('ix_teaching_case_source_case_id'))
        batch_op.drop_index(batch_op.f('ix_teaching_case_category_id'))
        batch_op.drop_index(batch_op.f('ix_teaching_case_author_id'))
    op.drop_table('teaching_case')

    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_index('ix_party_name_phone')
        batch_op.drop_index('ix_party_name_birth_date')
