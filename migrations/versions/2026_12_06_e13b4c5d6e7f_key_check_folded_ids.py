"""Key check value; ID numbers folded (issue 13). Written by hand.

``key_check`` holds one row: a fixed label encrypted with the first ID encryption key and
its HMAC with the ID hash key (``mediation.keys``), so that the app can tell at start-up
whether it was given the keys the numbers were written with.

The data step opens every party's ID number with the instance keys (found the way the app
finds them, ``mediation.crypto.cipher_for``), folds it to its one stored form
(``crypto.normalise_id``: full-width digits and letters to ASCII, no spaces, upper case),
encrypts and hashes that again, and stores the check value of the keys that opened them.
A number the keys do not open stops the upgrade (nothing is changed). The downgrade drops
the table; the numbers stay folded (the form they were typed in is not kept).

Revision ID: e13b4c5d6e7f
Revises: d17a0c3e5b21
Create Date: 2026-12-06 18:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e13b4c5d6e7f'
down_revision = 'd17a0c3e5b21'
branch_labels = None
depends_on = None

# Lightweight, untyped views of the tables: the raw values, whatever the models say later.
_party = sa.table("party", sa.column("id", sa.Integer), sa.column("id_number_enc", sa.Text),
                  sa.column("id_hash", sa.String))
_check = sa.table("key_check", sa.column("id", sa.Integer), sa.column("encryption_check", sa.Text),
                  sa.column("hash_check", sa.String), sa.column("updated_at", sa.DateTime))


def _cipher():
    from flask import current_app

    from mediation.crypto import cipher_for

    return cipher_for(current_app._get_current_object())


def upgrade():
    from mediation.crypto import normalise_id
    from mediation.timeutil import utcnow

    # Every number is opened first: a key that does not fit stops the upgrade before anything
    # is written (SQLite runs DDL outside the transaction, so a table made first would stay).
    cipher = _cipher()
    bind = op.get_bind()
    rows = bind.execute(sa.select(_party.c.id, _party.c.id_number_enc, _party.c.id_hash)
                        .where(_party.c.id_number_enc != '').order_by(_party.c.id)).all()
    opened = [(party_id, cipher.decrypt(token), digest) for party_id, token, digest in rows]

    # A run that stopped after making the table (before this order) is taken up again.
    if not sa.inspect(bind).has_table('key_check'):
        op.create_table('key_check',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('encryption_check', sa.Text(), nullable=False),
        sa.Column('hash_check', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_key_check'))
        )
    for party_id, number, digest in opened:
        folded = normalise_id(number)
        if folded != number:
            bind.execute(sa.update(_party).where(_party.c.id == party_id).values(
                id_number_enc=cipher.encrypt(folded), id_hash=cipher.hash(folded)))
        elif digest != cipher.hash(folded):
            bind.execute(sa.update(_party).where(_party.c.id == party_id).values(id_hash=cipher.hash(folded)))
    bind.execute(sa.delete(_check))
    bind.execute(sa.insert(_check).values(id=1, encryption_check=cipher.check_token(),
                                          hash_check=cipher.hash_check(), updated_at=utcnow()))


def downgrade():
    op.drop_table('key_check')
