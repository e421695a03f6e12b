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
"""
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, or_, select

from .. import access
from ..cases.models import Case, Party
from ..crypto import cipher_for, normalise_id
from ..extensions import db
from ..org.models import OrgUnit
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
    return re.sub(r"\s+", "", str(value or ""))


def normalise_phone(value) -> str:
    """As the intake form stores it: spaces removed."""
    return re.sub(r"\s+", "", str(value or ""))


def _get(party, key):
    return party.get(key) if isinstance(party, dict) else getattr(party, key, None)


def _probe(party) -> dict:
    """The matching keys of one party (a dict from the form or JSON, or a ``Party``)."""
    birth = _get(party, "birth_date")
    if isinstance(birth, str):
        try:
            birth = date.fromisoformat(birth.strip())
        except ValueError:
            birth = None
    id_number = normalise_id(_get(party, "id_number") or "")
    return {"name": normalise_name(_get(party, "name")), "birth": birth if isinstance(birth, date) else None,
            "phone": normalise_phone(_get(party, "phone")),
            "id_hash": cipher_for().hash(id_number) if len(id_number) >= 15 else ""}


def related_cases(user, parties, *, exclude_case_id: int | None = None) -> list[Related]:
    """Cases in the network involving any of ``parties`` (dicts with name, birth_date,
    phone, id_number, or ``Party`` objects), for ``user``: visible ones first (newest
    first), then one notice per unit holding cases the user may not see."""
    probes = [_probe(p) for p in list(parties)[:MAX_PARTIES]]
    conditions = []
    for p in probes:
        if p["id_hash"]:
            conditions.append(Party.id_hash == p["id_hash"])
        if p["name"] and p["birth"]:
            conditions.append(and_(Party.name == p["name"], Party.birth_date == p["birth"]))
        if p["name"] and p["phone"]:
            conditions.append(and_(Party.name == p["name"], Party.phone == p["phone"]))
    if not conditions:
        return []
    stmt = (select(Party.case_id, Party.name, Party.birth_date, Party.phone, Party.id_hash)
            .join(Case, Case.id == Party.case_id)
            .where(or_(*conditions), Case.anonymised_at.is_(None)))
    if exclude_case_id is not None:
        stmt = stmt.where(Party.case_id != exclude_case_id)
    matches: dict[int, tuple[set[int], set[str]]] = {}
    for case_id, name, birth, phone, id_hash in db.session.execute(stmt.limit(MAX_RESULTS * 10)):
        hit_parties, reasons = matches.setdefault(case_id, (set(), set()))
        for i, p in enumerate(probes):
            how = []
            if p["id_hash"] and id_hash == p["id_hash"]:
                how.append("id")
            if p["name"] and p["name"] == name:
                if p["birth"] and p["birth"] == birth:
                    how.append("birth")
                if p["phone"] and p["phone"] == phone:
                    how.append("phone")
            if how:
                hit_parties.add(i)
                reasons.update(how)
    if not matches:
        return []
    ids = list(matches)
    visible_ids = set(db.session.scalars(
        access.cases_query(user).with_only_columns(Case.id).where(Case.id.in_(ids))))
    rows = db.session.execute(
        select(Case.id, Case.number, Case.status, Case.created_at, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Case.unit_id).where(Case.id.in_(ids))
        .order_by(Case.created_at.desc(), Case.id.desc())
    ).all()
    shown: list[Related] = []
    hidden: dict[int, Related] = {}
    for case_id, number, status, _created, unit in rows:
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
