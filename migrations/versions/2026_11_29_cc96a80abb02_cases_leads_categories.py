"""Cases, parties, the timeline, drafts, numbering, leads and the category list
(seeded with the categories of DOMAIN.md §3).

Revision ID: cc96a80abb02
Revises: abf7c4add266
Create Date: 2026-11-29 01:14:54.401224

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'cc96a80abb02'
down_revision = 'abf7c4add266'
branch_labels = None
depends_on = None


# DOMAIN.md §3. Neighbour disputes are counted apart; 家暴 is a risk flag, not a category.
CATEGORIES = [
    ('divorce', '离婚', 'Divorce (property, custody)'),
    ('bride_price', '彩礼/婚约财产', 'Bride price / engagement gifts'),
    ('marital_conflict', '婚内矛盾', 'Conflict within a marriage'),
    ('cohabitation', '同居析产', 'Break-up of cohabitation'),
    ('child_support', '抚养/抚养费', 'Child custody and support'),
    ('visitation', '探望权', 'Visitation'),
    ('elder_support', '赡养', 'Elder support'),
    ('spousal_support', '扶养', 'Spousal support'),
    ('inheritance', '继承', 'Inheritance'),
    ('household_partition', '分家析产', 'Household partition'),
    ('intergenerational', '婆媳/代际', 'In-law and intergenerational'),
    ('guardianship', '监护', 'Guardianship'),
    ('neighbour', '邻里纠纷', 'Neighbour dispute'),
    ('other', '其他', 'Other family dispute'),
]


def upgrade():
    op.create_table('category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category')),
    sa.UniqueConstraint('code', name=op.f('uq_category_code'))
    )
    op.create_table('case_number_counter',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['org_unit.id'], name=op.f('fk_case_number_counter_station_id_org_unit')),
    sa.PrimaryKeyConstraint('station_id', 'year', name=op.f('pk_case_number_counter'))
    )
    op.create_table('lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('who', sa.String(length=200), nullable=False),
    sa.Column('where', sa.String(length=200), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'emergency', name='urgency', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('new', 'converted', 'dismissed', name='leadstatus', native_enum=False, length=16), nullable=False),
    sa.Column('dismiss_reason', sa.Text(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user_account.id'], name=op.f('fk_lead_handled_by_id_user_account')),
    sa.ForeignKeyConstraint(['reporter_id'], ['user_account.id'], name=op.f('fk_lead_reporter_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_lead_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead'))
    )
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_lead_unit_status', ['unit_id', 'status'], unique=False)

    op.create_table('case_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_case_draft_lead_id_lead')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_draft_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_draft'))
    )
    with op.batch_alter_table('case_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_draft_user_id'), ['user_id'], unique=False)

    op.create_table('case_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('origin_unit_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('party', 'screening', 'grid', 'police', 'court', 'government', 'hotline', 'petition', 'other', name='source', native_enum=False, length=24), nullable=False),
    sa.Column('referrer', sa.String(length=100), nullable=False),
    sa.Column('intake_date', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('claims', sa.Text(), nullable=False),
    sa.Column('amount_in_dispute', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('people_involved', sa.Integer(), nullable=False),
    sa.Column('children_involved', sa.Integer(), nullable=False),
    sa.Column('is_major', sa.Boolean(), nullable=False),
    sa.Column('is_mass', sa.Boolean(), nullable=False),
    sa.Column('risk_level', sa.Enum('none', 'yellow', 'orange', 'red', name='risklevel', native_enum=False, length=24), nullable=False),
    sa.Column('dv_flag', sa.Boolean(), nullable=False),
    sa.Column('consent_to_mediate', sa.Boolean(), nullable=False),
    sa.Column('rights_notice_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('registered', 'accepted', 'declined', 'assigned', 'in_mediation', 'concluded', 'follow_up', 'closed', 'archived', name='casestatus', native_enum=False, length=24), nullable=False),
    sa.Column('outcome', sa.Enum('success', 'partial', 'failed', 'terminated', name='outcome', native_enum=False, length=24), nullable=True),
    sa.Column('agreement_summary', sa.Text(), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('lead_mediator_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('concluded_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_case_record_category_id_category')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_case_record_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_case_record_lead_id_lead')),
    sa.ForeignKeyConstraint(['lead_mediator_id'], ['user_account.id'], name=op.f('fk_case_record_lead_mediator_id_user_account')),
    sa.ForeignKeyConstraint(['origin_unit_id'], ['org_unit.id'], name=op.f('fk_case_record_origin_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['station_id'], ['org_unit.id'], name=op.f('fk_case_record_station_id_org_unit')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_case_record_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_case_record_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_record')),
    sa.UniqueConstraint('number', name=op.f('uq_case_record_number')),
    sa.UniqueConstraint('station_id', 'year', 'seq', name='uq_case_record_station_year_seq')
    )
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_record_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_case_record_due_date', ['due_date'], unique=False)
        batch_op.create_index('ix_case_record_intake_date', ['intake_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_record_lead_mediator_id'), ['lead_mediator_id'], unique=False)
        batch_op.create_index('ix_case_record_unit_status', ['unit_id', 'status'], unique=False)

    op.create_table('case_co_mediator',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_co_mediator_case_id_case_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_co_mediator_user_id_user_account')),
    sa.PrimaryKeyConstraint('case_id', 'user_id', name=op.f('pk_case_co_mediator'))
    )
    op.create_table('case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.Enum('registered', 'accepted', 'declined', 'assigned', 'in_mediation', 'concluded', 'follow_up', 'closed', 'archived', name='casestatus', native_enum=False, length=24), nullable=True),
    sa.Column('to_status', sa.Enum('registered', 'accepted', 'declined', 'assigned', 'in_mediation', 'concluded', 'follow_up', 'closed', 'archived', name='casestatus', native_enum=False, length=24), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_case_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_event_case_id_case_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_case_id'), ['case_id'], unique=False)

    op.create_table('party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('applicant', 'respondent', 'third_party', 'agent', 'guardian', name='partyrole', native_enum=False, length=24), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('sex', sa.Enum('male', 'female', name='sex', native_enum=False, length=8), nullable=True),
    sa.Column('ethnicity', sa.String(length=16), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('occupation', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('relationship', sa.String(length=50), nullable=False),
    sa.Column('is_minor', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_party_case_id_case_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party'))
    )
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_party_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_party_name'), ['name'], unique=False)

    # lead and case_record point at each other: this side is added once both exist.
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_foreign_key(op.f('fk_lead_case_id_case_record'), 'case_record', ['case_id'], ['id'])

    category = sa.table('category', sa.column('code', sa.String), sa.column('name_zh', sa.String),
                        sa.column('name_en', sa.String), sa.column('sort_order', sa.Integer),
                        sa.column('active', sa.Boolean))
    op.bulk_insert(category, [
        {'code': code, 'name_zh': zh, 'name_en': en, 'sort_order': (i + 1) * 10, 'active': True}
        for i, (code, zh, en) in enumerate(CATEGORIES)
    ])


def downgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_lead_case_id_case_record'), type_='foreignkey')
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_party_name'))
        batch_op.drop_index(batch_op.f('ix_party_case_id'))

    op.drop_table('party')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))

    op.drop_table('case_event')
    op.drop_table('case_co_mediator')
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index('ix_case_record_unit_status')
        batch_op.drop_index(batch_op.f('ix_case_record_lead_mediator_id'))
        batch_op.drop_index('ix_case_record_intake_date')
        batch_op.drop_index('ix_case_record_due_date')
        batch_op.drop_index(batch_op.f('ix_case_record_category_id'))

    op.drop_table('case_record')
    with op.batch_alter_table('case_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_draft_user_id'))

    op.drop_table('case_draft')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_unit_status')
        batch_op.drop_index(batch_op.f('ix_lead_reporter_id'))

    op.drop_table('lead')
    op.drop_table('case_number_counter')
    op.drop_table('category')
