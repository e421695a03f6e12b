"""Audit log (hash-chained), encrypted party ID numbers with a keyed hash, retention
(category period, legal hold, anonymised date). Written by hand.

The data step encrypts every party's ID number with the instance keys, found the
way the app finds them (``mediation.crypto.cipher_for``: ID_ENCRYPTION_KEYS and
ID_HASH_KEY from the config, or instance/id_key and instance/id_hash_key in
development); the downgrade decrypts them back.

Revision ID: ed08d2c82805
Revises: eafcf5e59e2c
Create Date: 2026-11-29 13:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'ed08d2c82805'
down_revision = 'eafcf5e59e2c'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
# Lightweight, untyped view of the table: the raw values, whatever the models say later.
_party = sa.table("party", sa.column("id", sa.Integer), sa.column("id_number", sa.String),
                  sa.column("id_number_enc", sa.Text), sa.column("id_hash", sa.String))


def _cipher():
    from flask import current_app

    from mediation.crypto import cipher_for

    return cipher_for(current_app._get_current_object())


def upgrade():
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_event_action_at', ['action', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_actor_at', ['actor_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_target', ['target_type', 'target_id'], unique=False)

    head = op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.bulk_insert(head, [{"id": 1, "last_id": 0, "last_hash": GENESIS_HASH}])

    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_years', sa.Integer(), nullable=True))

    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number_enc', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('id_hash', sa.String(length=64), nullable=False, server_default=''))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_party.c.id, _party.c.id_number).where(_party.c.id_number != '')).all()
    if rows:
        cipher = _cipher()
        for party_id, number in rows:
            enc, digest = cipher.protect(number)
            bind.execute(sa.update(_party).where(_party.c.id == party_id).values(id_number_enc=enc, id_hash=digest))
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_column('id_number')
        batch_op.create_index(batch_op.f('ix_party_id_hash'), ['id_hash'], unique=False)


def downgrade():
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number', sa.String(length=18), nullable=False, server_default=''))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_party.c.id, _party.c.id_number_enc).where(_party.c.id_number_enc != '')).all()
    if rows:
        cipher = _cipher()
        for party_id, token in rows:
            bind.execute(sa.update(_party).where(_party.c.id == party_id).values(id_number=cipher.decrypt(token)))
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_party_id_hash'))
        batch_op.drop_column('id_hash')
        batch_op.drop_column('id_number_enc')

    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('legal_hold')

    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_column('retention_years')

    op.drop_table('audit_chain_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_target')
        batch_op.drop_index('ix_audit_event_actor_at')
        batch_op.drop_index('ix_audit_event_action_at')
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
    op.drop_table('audit_event')
