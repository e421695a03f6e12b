"""Retention: anonymise archived cases whose retention period has passed.

The People's Mediation Law sets no retention period (DOMAIN.md §7), so it is
configurable: ``MEDIATION_RETENTION_YEARS`` (10) after archiving, or the case's
category's own ``retention_years``. A case on legal hold is never anonymised.

Anonymising keeps what statistics need (category, units, dates, amounts, outcome,
counts of parties, children, diary entries, statuses and the timeline's steps) and
removes what identifies people: party names become 当事人甲, 当事人乙…; ID numbers,
phones, addresses, birth dates, occupations and relationships are cleared; free
text that may name people (summary, claims, diary text, agreement facts and terms,
timeline notes, the lead) is replaced by a placeholder; attached files are deleted.
The case is marked ``anonymised_at`` and the run is audited. Running again changes
nothing (idempotent).

Later features that keep personal data on a case register a function with
``@anonymiser``; it is called with the case inside the same transaction.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from .. import audit
from ..agreements.models import Agreement
from ..attachments.models import Attachment
from ..attachments.services import stored_paths
from ..audit.models import AuditEvent
from ..cases.models import Case, CaseEvent, CaseStatus, Category
from ..cases.services import CASE_FIELDS
from ..diary.models import Amendment, DiaryEntry, DiaryRevision
from ..errors import DomainError
from ..extensions import db
from ..leads.models import Lead
from ..search.index import refresh
from ..timeutil import local_date_of, utcnow

PLACEHOLDER = "〔已按保存期限匿名化〕"
_STEMS = "甲乙丙丁戊己庚辛壬癸"

# Functions(case) that scrub data other features keep on a case.
ANONYMISERS: list[Callable] = []


def anonymiser(fn: Callable) -> Callable:
    """Register ``fn(case)`` to run when a case is anonymised (same transaction); once,
    however many apps are made."""
    if fn not in ANONYMISERS:
        ANONYMISERS.append(fn)
    return fn


def party_alias(position: int) -> str:
    return "当事人" + (_STEMS[position] if position < len(_STEMS) else str(position + 1))


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year without one: the next day
        return moment.replace(year=moment.year + years, month=3, day=1)


def retention_years(category) -> int:
    years = getattr(category, "retention_years", None)
    return years if years else int(current_app.config["MEDIATION_RETENTION_YEARS"])


def expiry_of(case) -> datetime | None:
    """When the case's identifying data is due to be anonymised (None: not archived)."""
    if case.archived_at is None:
        return None
    return add_years(case.archived_at, retention_years(case.category))


@dataclass
class Due:
    case_id: int
    number: str
    archived_at: datetime
    expires_at: datetime


def due_cases(now: datetime | None = None) -> list[Due]:
    """Archived, not anonymised, not on hold, and past their retention period."""
    now = now or utcnow()
    default = int(current_app.config["MEDIATION_RETENTION_YEARS"])
    years = {cid: (y or default) for cid, y in db.session.execute(select(Category.id, Category.retention_years))}
    rows = db.session.execute(
        select(Case.id, Case.number, Case.archived_at, Case.category_id)
        .where(Case.status == CaseStatus.ARCHIVED, Case.archived_at.is_not(None),
               Case.anonymised_at.is_(None), Case.legal_hold.is_(False))
        .order_by(Case.archived_at, Case.id)
    ).all()
    out = []
    for case_id, number, archived_at, category_id in rows:
        expires = add_years(archived_at, years.get(category_id, default))
        # Due from the local day the case page names, whatever the hour the job runs.
        if local_date_of(expires) <= local_date_of(now):
            out.append(Due(case_id, number, archived_at, expires))
    return out


# --- anonymising one case -------------------------------------------------------------

def _scrub(text):
    return PLACEHOLDER if text else text


def _scrub_event_changes(kind: str, changes: dict, alias: Callable[[str], str]) -> dict:
    """The timeline's details with what may identify people replaced, shapes kept."""
    out = {}
    for field, value in (changes or {}).items():
        if field == "parties" and isinstance(value, list):
            out[field] = [[f"{item.partition(':')[0]}:{alias(item.partition(':')[2])}" for item in side]
                          if isinstance(side, list) else side for side in value]
        elif field == "party_fields" and isinstance(value, list):
            out[field] = [[alias(name), fields] for name, fields in value]
        elif field in ("summary", "claims", "referrer", "decline_reason", "file", "reason", "note"):
            out[field] = [_scrub(v) for v in value] if isinstance(value, list) else _scrub(value)
        elif field == "terms" and isinstance(value, list):
            out[field] = [PLACEHOLDER for _v in value]
        elif kind == "edited" and field not in CASE_FIELDS:
            out[field] = value if not isinstance(value, str) else _scrub(value)
        else:
            out[field] = value
    return out


def anonymise_case(case, *, now: datetime | None = None) -> dict:
    """Remove what identifies people from ``case`` (see the module doc); flushes, does not
    commit. Returns counts for the audit record."""
    now = now or utcnow()
    names: dict[str, str] = {}
    for p in sorted(case.parties, key=lambda p: p.position):
        names.setdefault(p.name, party_alias(len(names)))

    def alias(name: str) -> str:
        if not name:
            return name
        return names.setdefault(name, party_alias(len(names)))

    for p in case.parties:
        p.name = alias(p.name)
        p.id_number = ""
        p.phone = ""
        p.address = ""
        p.birth_date = None
        p.occupation = ""
        p.relationship = ""
    case.summary = PLACEHOLDER
    case.claims = _scrub(case.claims)
    case.referrer = _scrub(case.referrer)
    case.decline_reason = _scrub(case.decline_reason)

    entries = db.session.scalars(select(DiaryEntry).where(DiaryEntry.case_id == case.id)).all()
    entry_ids = [e.id for e in entries]
    if entry_ids:
        # Revisions and amendments are append-only for users; erasing them is the one exception.
        db.session.execute(update(DiaryRevision.__table__).where(DiaryRevision.entry_id.in_(entry_ids))
                           .values(data={"anonymised": True}))
        db.session.execute(update(Amendment.__table__).where(Amendment.entry_id.in_(entry_ids))
                           .values(reason=PLACEHOLDER, text=PLACEHOLDER))
    for e in entries:
        for field in ("place", "others_present", "issues", "proposals", "result", "next_step", "remaining_risk"):
            setattr(e, field, _scrub(getattr(e, field)))
        e.positions = {k: PLACEHOLDER for k in (e.positions or {})}
        # A follow-up keeps, per term, whether it was performed; the terms' words go.
        e.term_performance = [{"term": PLACEHOLDER, "performance": item.get("performance")}
                              for item in (e.term_performance or [])]

    agreement = db.session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    if agreement is not None:
        agreement.facts = _scrub(agreement.facts)
        agreement.disputed_points = _scrub(agreement.disputed_points)
        agreement.confirmation_note = _scrub(agreement.confirmation_note)
        for term in agreement.terms:
            term.content = PLACEHOLDER

    files = 0
    for a in db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all():
        for path in stored_paths(a):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        db.session.delete(a)
        files += 1

    leads = db.session.scalars(select(Lead).where((Lead.case_id == case.id) | (Lead.id == case.lead_id))).all()
    for lead in leads:
        lead.who = PLACEHOLDER
        lead.where = _scrub(lead.where)
        lead.what = PLACEHOLDER
        lead.contact_phone = ""
        lead.dismiss_reason = _scrub(lead.dismiss_reason)

    # The timeline is append-only for users (an ORM listener refuses changes); retention
    # rewrites its notes and details in place, keeping every step, time and actor.
    events = db.session.execute(
        select(CaseEvent.id, CaseEvent.kind, CaseEvent.note, CaseEvent.changes).where(CaseEvent.case_id == case.id)
    ).all()
    for event_id, kind, note, changes in events:
        new_changes = _scrub_event_changes(kind, changes or {}, alias)
        if note or new_changes != (changes or {}):
            db.session.execute(update(CaseEvent.__table__).where(CaseEvent.__table__.c.id == event_id)
                               .values(note=_scrub(note), changes=new_changes))

    for fn in ANONYMISERS:
        fn(case)
    case.anonymised_at = now
    db.session.flush()
    _refresh_search_index(case, entry_ids)
    return {"parties": len(case.parties), "diary_entries": len(entry_ids), "files_deleted": files}


def _refresh_search_index(case, entry_ids: list[int]) -> None:
    """Rebuild the case's full-text documents from the anonymised rows (the flush already
    refreshed what the ORM changed; amendments were rewritten without it)."""
    refresh(db.session.connection(), cases=[case.id], parties=[p.id for p in case.parties], entries=entry_ids)


@dataclass
class RunResult:
    due: list[Due]
    anonymised: list[str]
    skipped: list[str]


def run(*, dry_run: bool = False, now: datetime | None = None) -> RunResult:
    """Anonymise every due case, one transaction each (with its audit event)."""
    from sqlalchemy.orm.exc import StaleDataError

    now = now or utcnow()
    due = due_cases(now)
    result = RunResult(due=due, anonymised=[], skipped=[])
    if dry_run:
        return result
    for item in due:
        case = db.session.get(Case, item.case_id)
        # Re-checked here: another run or a hold may have come in since the list was made.
        if case is None or case.anonymised_at is not None or case.legal_hold:
            result.skipped.append(item.number)
            continue
        try:
            counts = anonymise_case(case, now=now)
            audit.record("retention.anonymise", target=case, details={
                "number": case.number, "archived_at": item.archived_at, "expired_at": item.expires_at,
                "retention_years": retention_years(case.category), **counts,
            })
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            result.skipped.append(item.number)
        else:
            result.anonymised.append(item.number)
    return result


# --- legal hold -------------------------------------------------------------------------

HOLD_REASON_MAX = 500


def set_legal_hold(case, hold: bool, *, reason: str, by) -> None:
    """Put a case on legal hold (never anonymised) or release it; audited. Flushes."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please give a reason."), field="reason")
    if len(reason) > HOLD_REASON_MAX:  # refused, not cut
        raise DomainError(_("Reason: at most %(max)d characters.", max=HOLD_REASON_MAX), field="reason")
    if case.anonymised_at is not None:
        raise DomainError(_("This case has already been anonymised."))
    if bool(case.legal_hold) == hold:
        return
    case.legal_hold = hold
    audit.record("case.legal_hold", target=case, actor=by,
                 details={"number": case.number, "hold": hold, "reason": reason})
    db.session.flush()


def last_hold_reason(case) -> str:
    details = db.session.scalar(
        select(AuditEvent.details).where(AuditEvent.action == "case.legal_hold", AuditEvent.target_type == "case",
                                         AuditEvent.target_id == str(case.id)).order_by(AuditEvent.id.desc()).limit(1)
    )
    return (details or {}).get("reason", "")


def local_date(moment: datetime | None) -> date | None:
    return local_date_of(moment) if moment else None
