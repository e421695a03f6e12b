"""Everything stored with the ID keys, read and rewritten through raw columns (no decrypting
types): the parties' numbers and hashes, and the sealed fields of intake drafts."""
from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import crypto
from ..cases.services import SEAL
from .services import party_table, store_check

draft_table = sa.table("case_draft", sa.column("id", sa.Integer), sa.column("data", sa.JSON))
BATCH = 500
SHOWN = 5  # party ids named in a message at most


@dataclass
class Scan:
    """What ``scan`` found: how many numbers, and the party (or draft) ids of those that fail."""

    numbers: int = 0
    drafts: int = 0
    unopened: list[int] = field(default_factory=list)
    wrong_hash: list[int] = field(default_factory=list)
    unfolded: list[int] = field(default_factory=list)
    unopened_drafts: list[int] = field(default_factory=list)

    def problems(self, enc_source: str, hash_source: str) -> list[str]:
        def ids(values):
            return ", ".join(map(str, values[:SHOWN])) + (", …" if len(values) > SHOWN else "")

        out = []
        if self.unopened:
            out.append(f"{len(self.unopened)} ID number(s) do not open with the encryption key in {enc_source} "
                       f"(party {ids(self.unopened)}): restore the right key from the backup.")
        if self.unopened_drafts:
            out.append(f"{len(self.unopened_drafts)} intake draft(s) hold fields that do not open with the "
                       f"encryption key in {enc_source} (draft {ids(self.unopened_drafts)}).")
        if self.wrong_hash:
            out.append(f"{len(self.wrong_hash)} ID number(s) do not match their hash under the key in {hash_source} "
                       f"(party {ids(self.wrong_hash)}): `flask --app mediation keys rotate` hashes them again.")
        if self.unfolded:
            out.append(f"{len(self.unfolded)} ID number(s) are not stored in their folded ASCII form "
                       f"(party {ids(self.unfolded)}): `flask --app mediation keys rotate` folds them.")
        return out


def _parties(conn: sa.Connection):
    if not sa.inspect(conn).has_table("party"):
        return
    last = 0
    while True:
        rows = conn.execute(sa.select(party_table.c.id, party_table.c.id_number_enc, party_table.c.id_hash)
                            .where(party_table.c.id > last, party_table.c.id_number_enc != "")
                            .order_by(party_table.c.id).limit(BATCH)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _drafts(conn: sa.Connection):
    if not sa.inspect(conn).has_table("case_draft"):
        return
    last = 0
    while True:
        rows = conn.execute(sa.select(draft_table.c.id, draft_table.c.data).where(draft_table.c.id > last)
                            .order_by(draft_table.c.id).limit(BATCH)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _sealed(data) -> list[str]:
    if not isinstance(data, dict):
        return []
    return [v[len(SEAL):] for values in data.values() if isinstance(values, list)
            for v in values if isinstance(v, str) and v.startswith(SEAL)]


def scan(conn: sa.Connection, cipher: crypto.IdCipher) -> Scan:
    """Open every stored number and sealed draft field with ``cipher``; compare the hashes."""
    result = Scan()
    for party_id, token, digest in _parties(conn):
        result.numbers += 1
        try:
            number = cipher.decrypt(token)
        except crypto.IdKeyError:
            result.unopened.append(party_id)
            continue
        if number != crypto.normalise_id(number):
            result.unfolded.append(party_id)
        elif digest != cipher.hash(number):
            result.wrong_hash.append(party_id)
    for draft_id, data in _drafts(conn):
        sealed = _sealed(data)
        if sealed:
            result.drafts += 1
        if not all(cipher.opens(token) for token in sealed):
            result.unopened_drafts.append(draft_id)
    return result


def _reseal(cipher: crypto.IdCipher, value):
    if isinstance(value, str) and value.startswith(SEAL):
        return SEAL + cipher.encrypt(cipher.decrypt(value[len(SEAL):]))
    return value


def rotate(conn: sa.Connection, cipher: crypto.IdCipher) -> tuple[int, int]:
    """Re-encrypt every number (folded) and sealed draft field with ``cipher``'s first key,
    hash every number with its hash key, and store the new check value. Returns (numbers,
    drafts). Raises ``IdKeyError`` on a value the keys do not open (the caller rolls back)."""
    parties = drafts = 0
    for party_id, token, _digest in list(_parties(conn)):
        number = crypto.normalise_id(cipher.decrypt(token))
        conn.execute(sa.update(party_table).where(party_table.c.id == party_id).values(
            id_number_enc=cipher.encrypt(number), id_hash=cipher.hash(number)))
        parties += 1
    for draft_id, data in list(_drafts(conn)):
        if not _sealed(data):
            continue
        data = {k: [_reseal(cipher, v) for v in values] if isinstance(values, list) else values
                for k, values in data.items()}
        conn.execute(sa.update(draft_table).where(draft_table.c.id == draft_id).values(data=data))
        drafts += 1
    if sa.inspect(conn).has_table("key_check"):
        store_check(conn, cipher)
    return parties, drafts
