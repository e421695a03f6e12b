"""Registering and editing cases, numbering, drafts, conflict checks. Services
flush; the view commits once.

Screening builds on cases and keeps the risk level's history: it fills the two slots
below in its ``init_app`` (see ``hooks``)."""
from decimal import Decimal

from blinker import Signal
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import selectinload

from .. import access, audit
from ..crypto import cipher_for
from ..errors import DomainError
from ..extensions import db
from ..hooks import Slot
from ..i18n import clip, fmt_datetime
from ..org.models import OrgUnit
from ..parsing import db_id
from ..timeutil import local_today, utcnow
from ..users.models import User
from . import workflow
from .models import (
    OPEN_STATUSES,
    Case,
    CaseDraft,
    CaseEvent,
    CaseNumberCounter,
    CaseStatus,
    CaseVisibility,
    Category,
    Party,
    PartyRole,
    RiskLevel,
    Sex,
    Source,
    case_co_mediator,
    rank,
)

# Case fields the intake form edits, in timeline order.
CASE_FIELDS = (
    "category_id", "source", "referrer", "intake_date", "summary", "claims", "amount_in_dispute",
    "people_involved", "children_involved", "is_major", "is_mass", "risk_level", "dv_flag",
    "consent_to_mediate", "rights_notice_date",
)
PARTY_FIELDS = ("role", "name", "sex", "ethnicity", "birth_date", "occupation", "id_number", "phone",
                "address", "relationship", "is_minor")


class StaleCase(DomainError):
    """Someone saved the case after this user opened it."""


# Provided by screening: whether a party has safety screenings (then it stays on the case),
# and recording a change of the case's risk level (with who, why, and the audit event).
party_has_screenings = Slot("party_has_screenings", "the party has safety screenings")
record_risk_change = Slot("record_risk_change", "record_risk_change(case, level, by=..., reason=...)")
# Sent after a case is registered, in its transaction: registered.send(case, by=...) (the API's outbox).
registered = Signal("case registered")


# --- numbering ---------------------------------------------------------------------

def station_of(unit: OrgUnit) -> OrgUnit:
    """The district station of a unit that holds cases (numbers are per station and year)."""
    station = unit.station
    if station is None:
        raise DomainError(_("Cases are registered by a district's station, platforms and villages only."))
    return station


# Trailing words of a district's or city's name left out of a number's prefix (金坛区 -> 金坛).
_DIVISION_SUFFIXES = ("自治县", "新区", "区", "县", "市")


def _short(name: str) -> str:
    for suffix in _DIVISION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def number_prefix(station: OrgUnit) -> str:
    """The 字号 of a station's numbers: ``CASE_NUMBER_PREFIX`` for a district on its own;
    in a province (a station under a city) the city's and the district's short names, so
    that numbers stay unique across districts (two cities have a 鼓楼区): 常州金坛婚调字."""
    if station.parent is None:
        return current_app.config["CASE_NUMBER_PREFIX"]
    return f"{_short(station.parent.name)}{_short(station.name)}婚调字"


def next_number(station: OrgUnit, year: int) -> tuple[int, str]:
    """Take the next sequence number for (station, year) inside the caller's transaction.

    The counter row is created if missing (a conflict-free insert) and then
    incremented with one UPDATE ... RETURNING: concurrent registrations queue on
    the row (PostgreSQL) or the write lock (SQLite), so numbers never repeat, and a
    rolled-back registration gives its number back.
    """
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - other databases are not supported
        dialect_insert = insert
    db.session.execute(
        dialect_insert(CaseNumberCounter)
        .values(station_id=station.id, year=year, last_seq=0)
        .on_conflict_do_nothing()
    )
    seq = db.session.execute(
        update(CaseNumberCounter)
        .where(CaseNumberCounter.station_id == station.id, CaseNumberCounter.year == year)
        .values(last_seq=CaseNumberCounter.last_seq + 1)
        .returning(CaseNumberCounter.last_seq)
    ).scalar_one()
    number = current_app.config["CASE_NUMBER_FORMAT"].format(year=year, prefix=number_prefix(station), seq=seq)
    return seq, number


# --- form data -> records --------------------------------------------------------------

def case_values(form) -> dict:
    return {
        "category_id": form.category.data,
        "source": Source(form.source.data),
        "referrer": (form.referrer.data or "").strip(),
        "intake_date": form.intake_date.data,
        "summary": form.summary.data.strip(),
        "claims": (form.claims.data or "").strip(),
        "amount_in_dispute": form.amount_in_dispute.data,
        "people_involved": form.people_involved.data,
        "children_involved": form.children_involved.data or 0,
        "is_major": bool(form.is_major.data),
        "is_mass": bool(form.is_mass.data),
        "risk_level": RiskLevel(form.risk_level.data),
        "dv_flag": bool(form.dv_flag.data),
        "consent_to_mediate": bool(form.consent_to_mediate.data),
        "rights_notice_date": form.rights_notice_date.data,
    }


def party_values(form) -> list[dict]:
    out = []
    for entry in form.parties.entries:
        p = entry.form
        if p.is_blank():
            continue
        out.append({
            "role": PartyRole(p.role.data),
            "name": p.name.data.strip(),
            "sex": Sex(p.sex.data) if p.sex.data else None,
            "ethnicity": p.ethnicity.data or "",
            "birth_date": p.birth_date.data,
            "occupation": (p.occupation.data or "").strip(),
            "id_number": p.id_number.data or "",
            "phone": p.phone.data or "",
            "address": (p.address.data or "").strip(),
            "relationship": (p.relationship.data or "").strip(),
            "is_minor": bool(p.is_minor.data),
        })
    return out


def _check_category(category_id: int) -> None:
    if db.session.get(Category, category_id) is None:
        raise DomainError(_("Choose a category."), field="category")


def default_unit(user: User, lead=None) -> OrgUnit:
    """The holding unit a new case gets unless the user chooses another: the unit of the lead
    it is registered from when the user may hold cases there (a lead reported in a village is
    that village's dispute, 就地化解, even when the town coordinator registers it), else the
    user's own."""
    if lead is not None:
        unit = db.session.scalar(access.units_query(user).where(OrgUnit.id == lead.unit_id,
                                                                OrgUnit.active.is_(True)))
        if unit is not None:
            return unit
    return user.unit


def register_case(*, unit: OrgUnit, values: dict, parties: list[dict], by: User, lead=None) -> Case:
    """Create a registered case with its parties and number; the first timeline event."""
    _check_category(values["category_id"])
    station = station_of(unit)
    year = values["intake_date"].year
    seq, number = next_number(station, year)
    case = Case(number=number, station_id=station.id, year=year, seq=seq, unit=unit, origin_unit=unit,
                created_by=by, updated_by=by, status=CaseStatus.REGISTERED, **values)
    for i, p in enumerate(parties):
        case.parties.append(Party(position=i, **p))
    if lead is not None:
        case.lead_id = lead.id
    db.session.add(case)
    db.session.add(CaseEvent(case=case, actor=by, kind="created", to_status=case.status,
                             changes={"number": [None, number]}))
    db.session.flush()
    audit.record("case.create", target=case, actor=by, details={"number": number, "unit": unit.label})
    registered.send(case, by=by)
    return case


def _plain(value):
    """A JSON-safe form of a field value for the timeline."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value"):  # enums
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _party_key(p) -> tuple:
    get = (lambda f: p[f]) if isinstance(p, dict) else (lambda f: getattr(p, f))
    return tuple(_plain(get(f)) for f in PARTY_FIELDS)


def _update_parties(case: Case, parties: list[dict]) -> None:
    """Change the party rows in place (screenings and other records point at them);
    a party with safety screenings is never removed."""
    kept = case.parties[:len(parties)]
    for party in case.parties[len(parties):]:
        if party_has_screenings(party):
            raise DomainError(_("%(name)s has safety screenings and cannot be removed from the case.",
                                name=party.name))
    for i, values in enumerate(parties):
        if i < len(kept):
            for field, value in values.items():
                setattr(kept[i], field, value)
            kept[i].position = i
        else:
            kept.append(Party(position=i, **values))
    case.parties = kept


def _check_risk_change(case: Case, values: dict, by: User) -> None:
    """The form may raise the level; lowering it needs a coordinator's step with a reason."""
    if case.dv_flag and values.get("dv_flag") is False:
        raise DomainError(_("Clearing “domestic violence suspected” needs a coordinator and a reason: use “Lower "
                            "the risk level” to none on the case page."), field="dv_flag")
    new = values.get("risk_level")
    if new is None or new is case.risk_level:
        return
    if rank(new) < rank(case.risk_level):
        raise DomainError(_("Lowering the risk level needs a coordinator and a reason: use “Lower the risk "
                            "level” on the case page."), field="risk_level")
    record_risk_change(case, new, by=by, reason="")


def update_case(case: Case, *, values: dict, parties: list[dict], by: User, expected_version: int) -> CaseEvent | None:
    """Save an edit made on version ``expected_version``; record old and new values.

    :raise StaleCase: the case was saved by someone else since; nothing is changed.
    :raise WorkflowError: the case is closed or archived.
    """
    workflow.ensure_writable(case)
    if case.version != expected_version:
        raise StaleCase(stale_message(case))
    _check_category(values["category_id"])
    _check_risk_change(case, values, by)
    changes = {}
    for field in CASE_FIELDS:
        old, new = getattr(case, field), values[field]
        if _plain(old) != _plain(new):
            changes[field] = [_plain(old), _plain(new)]
            setattr(case, field, new)
    old_parties = [_party_key(p) for p in case.parties]
    new_parties = [_party_key(p) for p in parties]
    if old_parties != new_parties:
        old_names = [_party_summary(k) for k in old_parties]
        new_names = [_party_summary(k) for k in new_parties]
        if old_names != new_names:
            changes["parties"] = [old_names, new_names]
        # Which details of which party changed; the values themselves (ID numbers,
        # phones, addresses) are not copied into the timeline.
        changed = [[new[1], [f for f, a, b in zip(PARTY_FIELDS, old, new, strict=True) if a != b]]
                   for old, new in zip(old_parties, new_parties, strict=False) if old != new]
        if changed:
            changes["party_fields"] = changed
        _update_parties(case, parties)
    if not changes:
        return None
    case.updated_at = utcnow()
    case.updated_by = by
    event = CaseEvent(case=case, actor=by, kind="edited", from_status=case.status, to_status=case.status,
                      changes=changes)
    db.session.add(event)
    db.session.flush()  # the version check: a concurrent save makes this fail
    return event


def _party_summary(key: tuple) -> str:
    """Role and name only: the timeline must not copy ID numbers or phones around."""
    return f"{key[0]}:{key[1]}"


def stale_message(case: Case) -> str:
    who = case.updated_by.display_name if case.updated_by else "?"
    return _("Changed by %(who)s at %(when)s; reload the case and make your change again.",
             who=who, when=fmt_datetime(case.updated_at))


# --- conflicts of interest ---------------------------------------------------------

def conflict_warnings(case: Case, mediator: User, viewer: User) -> list[str]:
    """Warnings, not refusals: the mediator is named as a party or a relative of one,
    or handled another case where a party of this one (same ID number) stood on the
    other side. Only cases ``viewer`` may read count: otherwise typing someone's ID number
    on a case would tell whether they are a party in another area's or a restricted case."""
    warnings = []
    for p in case.parties:
        if p.name and p.name == mediator.display_name:
            warnings.append(_("%(name)s has the same name as a party of this case.", name=mediator.display_name))
        if mediator.display_name and mediator.display_name in (p.relationship or ""):
            warnings.append(_("%(name)s is named in a party's relationship.", name=mediator.display_name))
    ids = {p.id_number: p.role for p in case.parties if p.id_number}
    if ids:
        others = db.session.execute(
            select(Party.id_number, Party.role, Case.number)
            .join(Case, Party.case_id == Case.id)
            .where(Party.id_number.in_(ids), Case.id != case.id,
                   access.sees_case(viewer, Case.id), access.content_shown_clause(),
                   (Case.lead_mediator_id == mediator.id)
                   | Case.id.in_(select(case_co_mediator.c.case_id)
                                 .where(case_co_mediator.c.user_id == mediator.id)))
        ).all()
        for id_number, role, number in others:
            if role != ids[id_number]:
                warnings.append(_("%(name)s mediated case %(number)s, where a party of this case was on the "
                                  "other side.", name=mediator.display_name, number=number))
    return sorted(set(warnings))


# --- lists --------------------------------------------------------------------------------

# Cases someone is still working on: the home page's "my open cases".
WORKING_STATUSES = OPEN_STATUSES | {CaseStatus.CONCLUDED, CaseStatus.FOLLOW_UP}


def overdue_clause():
    return (Case.status.in_(OPEN_STATUSES)) & (Case.due_date < local_today())


def is_overdue(case: Case) -> bool:
    return case.status in OPEN_STATUSES and case.due_date is not None and case.due_date < local_today()


def status_counts(stmt) -> dict[CaseStatus, int]:
    """Counts per status of the cases ``stmt`` selects, in one query."""
    sub = stmt.with_only_columns(Case.id, Case.status).order_by(None).subquery()
    rows = db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all()
    return {CaseStatus(s) if not isinstance(s, CaseStatus) else s: n for s, n in rows}


def home_count_queries(user: User) -> dict[str, Select]:
    """What needs this user now, for the home page: one query each, to be counted (up to a
    bound, ``paging.bounded_counts``) together; transfers add what waits for the user's unit."""
    base = access.case_rows(user, held=True)  # case_visibility alone: its indexes answer
    cv = CaseVisibility
    # The user's open cases only (by index): not every case they ever led or co-mediated.
    working = Case.status.in_(WORKING_STATUSES)
    mine_open = base.where(cv.status.in_(WORKING_STATUSES), cv.case_id.in_(
        select(Case.id).where(Case.lead_mediator_id == user.id, working).union(
            select(case_co_mediator.c.case_id).join(Case, Case.id == case_co_mediator.c.case_id)
            .where(case_co_mediator.c.user_id == user.id, working))))
    # Accepting and assigning are the managers' (a station's mediator only reads those counts).
    manages = {"registered": base.where(cv.status == CaseStatus.REGISTERED),
               "accepted": base.where(cv.status == CaseStatus.ACCEPTED)} \
        if access.is_manager_of(user, user.unit) else {}
    return {
        **manages,
        "mine_open": mine_open,
        # Kept only while the clock runs; as the list's overdue filter, not a restricted case not yet opened.
        "overdue": base.where(cv.due_key < local_today(), access.content_shown_rows()),
        "drafts": select(CaseDraft.id).where(CaseDraft.user_id == user.id),
    }


# --- drafts -------------------------------------------------------------------------------

DRAFT_MAX_BYTES = 200_000


# Draft fields kept encrypted like the case's own ID numbers (a draft is not yet a case).
SEALED_SUFFIXES = ("-id_number", "-phone", "-address")
SEAL = "sealed:"


def seal_draft(data: dict) -> dict:
    cipher = cipher_for()
    return {k: [SEAL + cipher.encrypt(v) if v and k.endswith(SEALED_SUFFIXES) else v for v in vals]
            for k, vals in data.items()}


def unseal_draft(data: dict) -> dict:
    cipher = cipher_for()
    return {k: [cipher.decrypt(v[len(SEAL):]) if isinstance(v, str) and v.startswith(SEAL) else v for v in vals]
            for k, vals in data.items()}


def save_draft(user: User, formdata, draft_id: int | None) -> CaseDraft:
    """Keep every typed field of the intake form; returns the draft (created if needed)."""
    # NUL cannot be stored by PostgreSQL; a draft keeps everything else as typed.
    data = {k: [v.replace("\x00", "") for v in formdata.getlist(k)]
            for k in formdata.keys() if k not in {"csrf_token", "draft_id", "submission_key"}}
    size = sum(len(v) for values in data.values() for v in values)
    if size > DRAFT_MAX_BYTES:
        raise DomainError(_("The draft is too large to save."))
    draft = None
    if draft_id:
        draft = db.session.scalar(select(CaseDraft).where(CaseDraft.id == draft_id, CaseDraft.user_id == user.id))
    if draft is None:
        draft = CaseDraft(user_id=user.id)
        db.session.add(draft)
    lead = (data.get("lead_id") or [""])[0]
    draft.lead_id = db_id(lead)
    draft.data = seal_draft(data)
    names = [v for k, vals in sorted(data.items()) if k.endswith("-name") for v in vals if v.strip()]
    summary = (data.get("summary") or [""])[0].strip()
    title = "、".join(names[:3]) + (" · " if names and summary else "") + summary
    draft.title = clip(title, 100)  # a line of the drafts list; the draft keeps it all
    draft.updated_at = utcnow()
    db.session.flush()
    return draft


def get_draft_or_404(user: User, draft_id: int) -> CaseDraft:
    return db.first_or_404(select(CaseDraft).where(CaseDraft.id == draft_id, CaseDraft.user_id == user.id))


def discard_draft(user: User, draft_id: int) -> None:
    db.session.execute(delete(CaseDraft).where(CaseDraft.id == draft_id, CaseDraft.user_id == user.id))


def discard_lead_drafts(user: User, lead_id: int) -> None:
    """The user's drafts of a lead just registered: earlier tries at the same intake."""
    db.session.execute(delete(CaseDraft).where(CaseDraft.lead_id == lead_id, CaseDraft.user_id == user.id))


def drafts_of(user: User) -> list[CaseDraft]:
    return list(db.session.scalars(
        select(CaseDraft).where(CaseDraft.user_id == user.id).order_by(CaseDraft.updated_at.desc())))


# --- restricted cases nobody can lift ------------------------------------------------------------

def _supervised(case: Case) -> bool:
    return any(u.active and "supervisor" in access.case_roles(u, case) for u in case.named_users)


def unsupervised_restricted() -> list[Case]:
    """Restricted cases on which no active coordinator or administrator over their unit is
    named: nobody who sees them can lift the restriction (cases restricted before that was
    required). Restricted cases are few; their named people come in one more query."""
    cases = db.session.scalars(select(Case).where(Case.restricted.is_(True)).order_by(Case.id)
                               .options(selectinload(Case.named_users))).all()
    return [case for case in cases if not _supervised(case)]


def name_supervisor(case: Case, user: User) -> None:
    """Name ``user`` on a restricted case, as one who can lift it; they must be an active
    coordinator or administrator over the case's unit. Flushes; the caller commits."""
    if not (user.active and "supervisor" in access.case_roles(user, case)):
        raise DomainError(_("%(name)s is not an active coordinator or administrator over %(unit)s.",
                            name=user.display_name, unit=case.unit.label))
    if user not in case.named_users:
        case.named_users = sorted([*case.named_users, user], key=lambda u: u.id)
        audit.record("admin.restricted_named", target=case, details={"named": user.display_name,
                                                                      "via": "command line"})
    db.session.flush()
