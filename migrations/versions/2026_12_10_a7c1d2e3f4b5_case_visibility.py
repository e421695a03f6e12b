"""Province scale (issue 12.3, 12.5, 12.6): the inbox's index; search documents that held one
character more than 256 times cut again (PostgreSQL dropped its later positions); case_visibility, the access rule kept ahead (one row per
case and unit that sees it), filled here from the cases, holdings, transfers, delegations
and units. Written by hand.

Revision ID: a7c1d2e3f4b5
Revises: f13a5c7e9b02
Create Date: 2026-12-10 09:00:00.000000

"""
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c1d2e3f4b5'
down_revision = 'f13a5c7e9b02'
branch_labels = None
depends_on = None

# A frozen copy of mediation/visibility.py's statement as it is at this revision (the
# module may change later; this migration must not).
BACKFILL = """
INSERT INTO case_visibility (case_id, unit_id, held, restricted, status, intake_date, due_key, year, seq)
WITH RECURSIVE seeds(case_id, unit_id, held) AS (
    SELECT c.id, c.unit_id, 2 FROM case_record c WHERE c.id >= :lo AND c.id < :hi
    UNION ALL SELECT h.case_id, h.unit_id, 0 FROM case_holding h WHERE h.case_id >= :lo AND h.case_id < :hi
    UNION ALL SELECT t.case_id, t.to_unit_id, 0 FROM case_transfer t
              WHERE t.status = 'pending' AND t.case_id >= :lo AND t.case_id < :hi
    UNION ALL SELECT d.case_id, d.unit_id, 0 FROM case_delegation d WHERE d.case_id >= :lo AND d.case_id < :hi
),
up(unit_id, anc_id, tier, parent_id, self) AS (
    SELECT u.id, u.id, u.tier, u.parent_id, 1 FROM org_unit u WHERE u.id IN (SELECT unit_id FROM seeds)
    UNION ALL
    SELECT up.unit_id, p.id, p.tier, p.parent_id, 0 FROM up JOIN org_unit p ON p.id = up.parent_id
    WHERE up.tier <> 'station'
),
rows_(case_id, unit_id, held) AS (
    SELECT s.case_id, up.anc_id,
           MAX(CASE WHEN s.held = 2 AND up.self = 1 THEN 2 WHEN s.held = 2 THEN 1 ELSE 0 END)
    FROM seeds s JOIN up ON up.unit_id = s.unit_id
    GROUP BY s.case_id, up.anc_id
)
SELECT r.case_id, r.unit_id, r.held, c.restricted, c.status, c.intake_date,
       CASE WHEN c.status IN ('accepted', 'assigned', 'in_mediation') AND c.due_date IS NOT NULL THEN c.due_date
            ELSE :far_due END, c.year, c.seq
FROM rows_ r JOIN case_record c ON c.id = r.case_id
"""


def upgrade():
    op.create_table(
        'case_visibility',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('held', sa.SmallInteger(), nullable=False),
        sa.Column('restricted', sa.Boolean(), nullable=False),
        sa.Column('status', sa.Enum('registered', 'accepted', 'declined', 'assigned', 'in_mediation',
                                    'pending_transfer', 'concluded', 'follow_up', 'closed', 'archived',
                                    name='casestatus', native_enum=False, length=24), nullable=False),
        sa.Column('intake_date', sa.Date(), nullable=False),
        sa.Column('due_key', sa.Date(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_visibility_case_id_case_record'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_case_visibility_unit_id_org_unit')),
        sa.PrimaryKeyConstraint('case_id', 'unit_id', name=op.f('pk_case_visibility')),
    )
    with op.batch_alter_table('case_visibility', schema=None) as batch_op:
        batch_op.create_index('ix_case_visibility_unit_intake', ['unit_id', 'intake_date', 'case_id'], unique=False)
        batch_op.create_index('ix_case_visibility_unit_status',
                              ['unit_id', 'status', 'intake_date', 'case_id', 'held', 'restricted'], unique=False)
        batch_op.create_index('ix_case_visibility_unit_due', ['unit_id', 'due_key', 'case_id'], unique=False)
        batch_op.create_index('ix_case_visibility_unit_number', ['unit_id', 'year', 'seq', 'case_id'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_created', ['user_id', 'created_at', 'id'], unique=False)

    bind = op.get_bind()
    top = bind.scalar(sa.text("SELECT MAX(id) FROM case_record")) or 0
    for lo in range(0, top + 1, 20_000):
        bind.execute(sa.text(BACKFILL), {"lo": lo, "hi": lo + 20_000, "far_due": date(9999, 12, 31)})
    _recut_search_documents(bind)


def _recut_search_documents(bind) -> None:
    """Rewrite the documents of every source with a piece that holds a token more than 256
    times: the index code cuts them again (as the search index migration used it)."""
    from collections import Counter

    from mediation.search.index import refresh
    from mediation.search.text import spaced

    sources = {"cases": set(), "parties": set(), "entries": set()}
    key = {"number": "cases", "summary": "cases", "claims": "cases", "party": "parties", "diary": "entries"}
    rows = bind.execute(sa.text("SELECT kind, source_id, content FROM search_doc WHERE length(content) > 256"))
    for kind, source_id, content in rows:
        if kind in key and max(Counter(spaced(content).split(" ")).values()) > 256:
            sources[key[kind]].add(source_id)
    if any(sources.values()):
        refresh(bind, **sources)


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_created')
    with op.batch_alter_table('case_visibility', schema=None) as batch_op:
        batch_op.drop_index('ix_case_visibility_unit_number')
        batch_op.drop_index('ix_case_visibility_unit_due')
        batch_op.drop_index('ix_case_visibility_unit_status')
        batch_op.drop_index('ix_case_visibility_unit_intake')
    op.drop_table('case_visibility')
