"""Escalation and hand-down between tiers (transfers, holding history), referrals out,
delegated follow-up visits, and the inbox. A case waiting at another unit has the status
"pending_transfer" (status columns are plain strings: no type change needed).

Revision ID: e8864f156bac
Revises: 1bbd8fcbed7d
Create Date: 2026-11-29 03:30:33.514847

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e8864f156bac'
down_revision = '1bbd8fcbed7d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('destination', sa.Enum('court_delegated', 'court_entrusted', 'police', 'legal_aid', 'shelter', 'justice_office', 'womens_federation', 'social_work', 'other', name='referraldestination', native_enum=False, length=24), nullable=False),
    sa.Column('destination_name', sa.String(length=100), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('outcome_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_referral_case_id_case_record')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_case_referral_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_referral'))
    )
    with op.batch_alter_table('case_referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_referral_case_id'), ['case_id'], unique=False)

    op.create_table('case_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('escalate', 'hand_down', name='transferkind', native_enum=False, length=16), nullable=False),
    sa.Column('from_unit_id', sa.Integer(), nullable=False),
    sa.Column('to_unit_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Enum('unsettled', 'safety', 'large_amount', 'cross_area', 'party_request', 'local_follow_up', 'other', name='escalationreason', native_enum=False, length=24), nullable=False),
    sa.Column('reason_text', sa.Text(), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'emergency', name='urgency', native_enum=False, length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'returned', 'withdrawn', name='transferstatus', native_enum=False, length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_transfer_case_id_case_record')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_case_transfer_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_case_transfer_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['from_unit_id'], ['org_unit.id'], name=op.f('fk_case_transfer_from_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['to_unit_id'], ['org_unit.id'], name=op.f('fk_case_transfer_to_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_transfer'))
    )
    with op.batch_alter_table('case_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_transfer_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_transfer_to_unit_status', ['to_unit_id', 'status'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_notification_case_id_case_record')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('user_id', 'key', name='uq_notification_user_key')
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_notification_user_read', ['user_id', 'read_at'], unique=False)

    op.create_table('case_delegation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('instruction', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', name='delegationstatus', native_enum=False, length=16), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_delegation_case_id_case_record')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_case_delegation_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['diary_entry.id'], name=op.f('fk_case_delegation_entry_id_diary_entry')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_case_delegation_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_delegation'))
    )
    with op.batch_alter_table('case_delegation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_delegation_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_delegation_unit_id'), ['unit_id'], unique=False)

    op.create_table('case_holding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.Column('until', sa.DateTime(), nullable=True),
    sa.Column('transfer_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_holding_case_id_case_record')),
    sa.ForeignKeyConstraint(['transfer_id'], ['case_transfer.id'], name=op.f('fk_case_holding_transfer_id_case_transfer')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_case_holding_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_holding'))
    )
    with op.batch_alter_table('case_holding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_holding_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_holding_unit_id'), ['unit_id'], unique=False)



def downgrade():
    with op.batch_alter_table('case_holding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_holding_unit_id'))
        batch_op.drop_index(batch_op.f('ix_case_holding_case_id'))

    op.drop_table('case_holding')
    with op.batch_alter_table('case_delegation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_delegation_unit_id'))
        batch_op.drop_index(batch_op.f('ix_case_delegation_case_id'))

    op.drop_table('case_delegation')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_read')
        batch_op.drop_index(batch_op.f('ix_notification_case_id'))

    op.drop_table('notification')
    with op.batch_alter_table('case_transfer', schema=None) as batch_op:
        batch_op.drop_index('ix_case_transfer_to_unit_status')
        batch_op.drop_index(batch_op.f('ix_case_transfer_case_id'))

    op.drop_table('case_transfer')
    with op.batch_alter_table('case_referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_referral_case_id'))

    op.drop_table('case_referral')
