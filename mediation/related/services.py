"""Related cases: other cases anywhere in the network that involve the same person.

The rules, in one place (``related_cases``):

* the same person is the same ID number (compared by its keyed hash,
  ``Party.id_hash``: the number itself never reaches SQL), or the same name with
  the same birth date, or the same name with the same phone number;
* a related case the user may see (``access.cases_query``, the one scope rule) is
  shown with its number, status and holding unit, and linked;
* a related case outside the user's access is announced only as "a related case
  exists; contact <holding unit>": no number, no names, dates, category or status.
  Several such cases at one unit are announced once, so not even their count leaks;
* anonymised cases (retention) are never matched: their names are placeholders.

Before matching, numbers are normalised as the forms store them (``parsing``): full-width
digits folded, a lower-case x in an ID number made X, spaces and dashes dropped, and a +86 /
0086 prefix removed from phones (a stored phone is compared in the same form). The edit form shows
stored ID numbers masked (3204**********1232, see ``cases.reveal.unmask_ids``): a masked
number sent with the case's id (``exclude``) is matched by the stored party's number —
the party at the same position with that mask, else the only one with it — and only
when the user may see that case.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from .. import access
from ..cases.models import Case, Party
from ..crypto import cipher_for, normalise_id
from ..extensions import db
from ..org.models import OrgUnit
from ..parsing import ascii_int, phone_digits, phone_number
from ..screening.services import protected_party_ids
from . import models  # noqa: F401  (the indexes on the matched columns)

MAX_PARTIES = 30  # as many as the intake form takes
MAX_RESULTS = 50  # related cases listed at most


@dataclass
class Related:
    """One related case. ``visible`` False: only ``unit_name`` is set, nothing else."""

    visible: bool
    unit_name: str
    case_id: int | None = None
    number: str | None = None
    status: object | None = None  # CaseStatus
    unit_code: str | None = None
    # Which of the given parties (their indices) match, and how ("id", "birth", "phone").
    parties: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        if not self.visible:
            return {"visible": False, "unit": self.unit_name, "parties": self.parties}
        return {"visible": True, "unit": self.unit_name, "id": self.case_id, "number": self.number,
                "status": self.status.value if self.status else None, "parties": self.parties,
                "reasons": self.reasons}


def normalise_name(value) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or "")))


def normalise_phone(value) -> str:
    """Full-width digits folded, spaces, dashes and brackets dropped, +86/0086 removed:
    ＋８６ 138-0000-0101 and 13800000101 are one number (``parsing.phone_digits``, as the
    forms read a phone before storing it)."""
    return phone_digits(value)


def phone_forms(phone: str) -> list[str]:
    """The ways a normalised phone may have been stored: as the forms store it now
    (``parsing.phone_number``: 0519-82812345), and as typed before, less spaces."""
    if not phone:
        return []
    stored = phone_number(phone)
    return list(dict.fromkeys([*([stored] if stored else []), phone, f"+86{phone}", f"0086{phone}"]))


def normalise_id_number(value) -> str:
    """Full-width digits folded, a lower-case x made X, spaces and hyphens dropped: the form
    the number is stored and hashed in (``crypto.normalise_id``)."""
    return normalise_id(str(value or ""))


def _get(party, key):
    return party.get(key) if isinstance(party, dict) else getattr(party, key, None)


def _unmasked(masked: str, position: int | None, stored: list) -> str:
    """The stored number behind ``masked`` (see ``cases.reveal.unmask_ids``): the party at
    the same position with that mask, else the only party with it; "" otherwise."""
    matches = [(p.position, p.id_number) for p in stored if p.id_number and p.id_masked == masked]
    same_place = [number for pos, number in matches if pos == position]
    if same_place:
        return same_place[0]
    return matches[0][1] if len(matches) == 1 else ""


def _probe(party, stored: list | None = None, position: int | None = None) -> dict:
    """The matching keys of one party (a dict from the form or JSON, or a ``Party``);
    ``stored``: the parties of the case being edited, for a masked ID number."""
    birth = _get(party, "birth_date")
    if isinstance(birth, str):
        try:
            birth = date.fromisoformat(birth.strip())
        except ValueError:
            birth = None
    raw = str(_get(party, "id_number") or "").replace("＊", "*").strip()
    if "*" in raw:
        raw = _unmasked(raw, position, stored or [])
    id_number = normalise_id_number(raw)
    return {"name": normalise_name(_get(party, "name")), "birth": birth if isinstance(birth, date) else None,
            "phone": normalise_phone(_get(party, "phone")),
            "id_hash": cipher_for().hash(id_number) if len(id_number) >= 15 else ""}


def _stored_parties(user, parties, case_id: int | None) -> list:
    """The parties of the case being edited, when a masked number needs them and the
    user may see that case."""
    if case_id is None or not any("*" in str(_get(p, "id_number") or "") for p in parties):
        return []
    case = db.session.scalar(access.cases_query(user).where(Case.id == case_id))
    return list(case.parties) if case is not None else []


def related_cases(user, parties, *, exclude_case_id: int | None = None) -> list[Related]:
    """Cases in the network involving any of ``parties`` (dicts with name, birth_date,
    phone, id_number — and ``position``, the form's card number, for a masked number —
    or ``Party`` objects), for ``user``: visible ones first (newest first), then one
    notice per unit holding cases the user may not see."""
    parties = list(parties)[:MAX_PARTIES]
    stored = _stored_parties(user, parties, exclude_case_id)
    probes = []
    for i, p in enumerate(parties):
        position = _get(p, "position")
        position = ascii_int(position, 0, 999) if ascii_int(position, 0, 999) is not None else i
        probes.append(_probe(p, stored, position))
    conditions = []
    for p in probes:
        if p["id_hash"]:
            conditions.append(Party.id_hash == p["id_hash"])
        if p["name"] and p["birth"]:
            conditions.append(and_(Party.name == p["name"], Party.birth_date == p["birth"]))
        if p["name"] and p["phone"]:
            conditions.append(and_(Party.name == p["name"], Party.phone.in_(phone_forms(p["phone"]))))
    if not conditions:
        return []
    stmt = (select(Party.case_id, Party.name, Party.birth_date, Party.phone, Party.id_hash, Party.id)
            .join(Case, Case.id == Party.case_id)
            .where(or_(*conditions), Case.anonymised_at.is_(None)))
    if exclude_case_id is not None:
        stmt = stmt.where(Party.case_id != exclude_case_id)
    matches: dict[int, tuple[set[int], set[str]]] = {}
    rows_found = db.session.execute(stmt.limit(MAX_RESULTS * 10)).all()
    found_ids = list({r[0] for r in rows_found})
    # The cases found, their units and whether the user sees each: one query.
    found = {case.id: (case, unit, bool(visible)) for case, unit, visible in db.session.execute(
        select(Case, OrgUnit, access.sees_case(user, Case.id).label("visible"))
        .join(OrgUnit, OrgUnit.id == Case.unit_id).where(Case.id.in_(found_ids))
        .options(joinedload(OrgUnit.parent)))} if found_ids else {}
    visible_ids = {i for i, (_c, _u, visible) in found.items() if visible}
    # A case the user may not see: a restricted one is never announced (not even that it exists), and a
    # protected phone (flagged case) never confirms a guess: only ID number or name + birth date count.
    hidden_cases = {i: c for i, (c, _u, visible) in found.items() if not visible}
    # A restricted case the user may see but has not opened with a reason is not announced either.
    sealed = {i for i, (c, _u, _v) in found.items() if access.content_hidden(c)}
    for case_id, name, birth, phone, id_hash, party_id in rows_found:
        outside = hidden_cases.get(case_id)
        if (outside is not None and outside.restricted) or case_id in sealed:
            continue
        hit_parties, reasons = matches.setdefault(case_id, (set(), set()))
        for i, p in enumerate(probes):
            how = []
            if p["id_hash"] and id_hash == p["id_hash"]:
                how.append("id")
            if p["name"] and p["name"] == name:
                if p["birth"] and p["birth"] == birth:
                    how.append("birth")
                if p["phone"] and p["phone"] == normalise_phone(phone) and not (
                        outside is not None and party_id in protected_party_ids(outside)):
                    how.append("phone")
            if how:
                hit_parties.add(i)
                reasons.update(how)
    matches = {k: v for k, v in matches.items() if v[0]}
    if not matches:
        return []
    rows = sorted(((found[i][0], found[i][1]) for i in matches),
                  key=lambda cu: (cu[0].created_at, cu[0].id), reverse=True)
    shown: list[Related] = []
    hidden: dict[int, Related] = {}
    for case, unit in rows:
        case_id, number, status = case.id, case.number, case.status
        hit_parties, reasons = matches[case_id]
        if case_id in visible_ids:
            shown.append(Related(True, unit.label, case_id=case_id, number=number, status=status,
                                 unit_code=unit.code, parties=sorted(hit_parties),
                                 reasons=[r for r in ("id", "birth", "phone") if r in reasons]))
        else:
            notice = hidden.setdefault(unit.id, Related(False, unit.label))
            notice.parties = sorted(set(notice.parties) | hit_parties)
    return (shown + sorted(hidden.values(), key=lambda r: r.unit_name))[:MAX_RESULTS]


def related_to_case(user, case) -> list[Related]:
    """Related cases of ``case``'s parties (the case itself left out)."""
    return related_cases(user, case.parties, exclude_case_id=case.id)
