"""The mediation diary: entries, same-day revisions and amendments.

Revision ID: b125610a6e66
Revises: cc96a80abb02
Create Date: 2026-11-29 01:34:41.536223

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b125610a6e66'
down_revision = 'cc96a80abb02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('diary_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('session', 'investigation', 'visit', 'call', 'follow_up', 'other', name='entrykind', native_enum=False, length=16), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('mode', sa.Enum('joint', 'separate', 'shuttle', 'phone', 'video', name='sessionmode', native_enum=False, length=16), nullable=True),
    sa.Column('party_ids', sa.JSON(), nullable=False),
    sa.Column('mediator_ids', sa.JSON(), nullable=False),
    sa.Column('others_present', sa.String(length=500), nullable=False),
    sa.Column('issues', sa.Text(), nullable=False),
    sa.Column('positions', sa.JSON(), nullable=False),
    sa.Column('proposals', sa.Text(), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('next_step', sa.Text(), nullable=False),
    sa.Column('next_date', sa.Date(), nullable=True),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('performance', sa.Enum('performed', 'partly', 'not', name='performance', native_enum=False, length=16), nullable=True),
    sa.Column('satisfaction', sa.Enum('satisfied', 'basically', 'unsatisfied', name='satisfaction', native_enum=False, length=16), nullable=True),
    sa.Column('remaining_risk', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_diary_entry_author_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_diary_entry_case_id_case_record')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_diary_entry_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diary_entry'))
    )
    with op.batch_alter_table('diary_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diary_entry_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_diary_entry_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_diary_entry_next_date'), ['next_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_diary_entry_occurred_on'), ['occurred_on'], unique=False)

    op.create_table('diary_amendment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_diary_amendment_by_id_user_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['diary_entry.id'], name=op.f('fk_diary_amendment_entry_id_diary_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diary_amendment'))
    )
    with op.batch_alter_table('diary_amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diary_amendment_entry_id'), ['entry_id'], unique=False)

    op.create_table('diary_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_diary_revision_by_id_user_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['diary_entry.id'], name=op.f('fk_diary_revision_entry_id_diary_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diary_revision'))
    )
    with op.batch_alter_table('diary_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diary_revision_entry_id'), ['entry_id'], unique=False)



def downgrade():
    with op.batch_alter_table('diary_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diary_revision_entry_id'))

    op.drop_table('diary_revision')
    with op.batch_alter_table('diary_amendment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diary_amendment_entry_id'))

    op.drop_table('diary_amendment')
    with op.batch_alter_table('diary_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diary_entry_occurred_on'))
        batch_op.drop_index(batch_op.f('ix_diary_entry_next_date'))
        batch_op.drop_index(batch_op.f('ix_diary_entry_case_id'))
        batch_op.drop_index(batch_op.f('ix_diary_entry_author_id'))

    op.drop_table('diary_entry')
