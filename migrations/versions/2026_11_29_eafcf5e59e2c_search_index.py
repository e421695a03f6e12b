"""Full-text search: search_doc, and its index (FTS5 on SQLite, a generated tsvector
with a GIN index on PostgreSQL), built from the cases already there. Written by hand.

Revision ID: eafcf5e59e2c
Revises: e8864f156bac
Create Date: 2026-11-29 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'eafcf5e59e2c'
down_revision = 'e8864f156bac'
branch_labels = None
depends_on = None


def upgrade():
    from mediation.search.index import ensure_search_index, rebuild

    op.create_table('search_doc',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('tokens', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_doc'))
    )
    op.create_index(op.f('ix_search_doc_case_id'), 'search_doc', ['case_id'], unique=False)
    op.create_index('ix_search_doc_source', 'search_doc', ['kind', 'source_id'], unique=False)
    bind = op.get_bind()
    ensure_search_index(bind)
    rebuild(bind)


def downgrade():
    from mediation.search.index import drop_search_index

    drop_search_index(op.get_bind())
    op.drop_index('ix_search_doc_source', table_name='search_doc')
    op.drop_index(op.f('ix_search_doc_case_id'), table_name='search_doc')
    op.drop_table('search_doc')
