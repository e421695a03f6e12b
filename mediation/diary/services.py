"""Writing, editing (same day, by the author) and amending diary entries. Services flush."""
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import access
from ..cases.models import Case, CaseEvent
from ..cases.workflow import CaseStatus
from ..errors import DomainError
from ..extensions import db
from ..timeutil import local_date_of, local_today, utcnow
from .models import Amendment, DiaryEntry, DiaryRevision, EntryKind, SessionMode

# A diary is kept from acceptance until the case is closed.
WRITABLE_STATUSES = frozenset({
    CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION, CaseStatus.CONCLUDED, CaseStatus.FOLLOW_UP,
})
FIELDS = ("kind", "occurred_on", "start_time", "duration_minutes", "place", "mode", "party_ids", "mediator_ids",
          "others_present", "issues", "positions", "proposals", "result", "next_step", "next_date",
          "confidential", "performance", "satisfaction", "remaining_risk")


def can_write(user, case: Case) -> bool:
    return case.status in WRITABLE_STATUSES and bool(access.case_roles(user, case))


def sees_confidential(user, case: Case) -> bool:
    """Confidential (caucus) entries: the case's mediators only."""
    return user.id in case.mediator_ids


def visible_entries(user, case: Case) -> list[DiaryEntry]:
    stmt = select(DiaryEntry).where(DiaryEntry.case_id == case.id)
    if not sees_confidential(user, case):
        stmt = stmt.where(DiaryEntry.confidential.is_(False) | (DiaryEntry.author_id == user.id))
    return list(db.session.scalars(stmt.order_by(DiaryEntry.occurred_on, DiaryEntry.start_time, DiaryEntry.id)))


def book_days(user, first, end, *, mine_only: bool, confidential: bool = False) -> list[tuple]:
    """Entries from ``first`` up to ``end`` of cases in the user's scope (only the
    user's own when ``mine_only``), grouped by day: [(date, [(case, entry), ...])].
    Confidential entries only for their cases' mediators."""
    stmt = (select(DiaryEntry, Case).join(Case, DiaryEntry.case_id == Case.id)
            .where(Case.id.in_(access.cases_query(user).with_only_columns(Case.id)),
                   DiaryEntry.occurred_on >= first, DiaryEntry.occurred_on < end)
            .order_by(DiaryEntry.occurred_on, DiaryEntry.start_time, DiaryEntry.id))
    if mine_only:
        stmt = stmt.where(DiaryEntry.author_id == user.id)
    days: dict = {}
    for entry, case in db.session.execute(stmt).all():
        if entry.confidential and not (confidential and sees_confidential(user, case)):
            continue  # printed only on purpose, and only for the case's mediators
        days.setdefault(entry.occurred_on, []).append((case, entry))
    return sorted(days.items())


def entry_count(case: Case) -> int:
    return db.session.scalar(select(func.count(DiaryEntry.id)).where(DiaryEntry.case_id == case.id))


def can_edit(user, entry: DiaryEntry) -> bool:
    """The author, on the (local) day the entry was written."""
    return entry.author_id == user.id and local_date_of(entry.created_at) == local_today()


def _check(case: Case, values: dict) -> None:
    if values["kind"] is EntryKind.SESSION and values.get("mode") is None:
        raise DomainError(_("Choose how the session was held."), field="mode")
    if values["occurred_on"] > local_today():
        raise DomainError(_("The date is in the future."), field="occurred_on")
    if values["occurred_on"] < case.intake_date:
        raise DomainError(_("The date is before the case was registered."), field="occurred_on")
    if values.get("next_date") and values["next_date"] < values["occurred_on"]:
        raise DomainError(_("The next date is before this entry's date."), field="next_date")
    if values["kind"] is EntryKind.FOLLOW_UP and values.get("performance") is None:
        raise DomainError(_("Record whether the agreement was performed."), field="performance")
    party_ids = {p.id for p in case.parties}
    values["party_ids"] = [i for i in values.get("party_ids", []) if i in party_ids]
    values["positions"] = {str(k): v.strip() for k, v in values.get("positions", {}).items()
                           if int(k) in party_ids and v.strip()}


def write_entry(case: Case, *, by, values: dict) -> DiaryEntry:
    """:raise DomainError: the case is not open for the diary, or a value is wrong."""
    if not can_write(by, case):
        raise DomainError(_("The diary of this case cannot be written now."))
    _check(case, values)
    entry = DiaryEntry(case_id=case.id, author=by, unit_id=case.unit_id, **values)
    db.session.add(entry)
    db.session.flush()
    db.session.add(CaseEvent(case=case, actor=by, kind="diary", from_status=case.status, to_status=case.status,
                             changes={"entry": entry.id, "kind": entry.kind.value}))
    db.session.flush()
    return entry


def snapshot(entry: DiaryEntry) -> dict:
    out = {}
    for f in FIELDS:
        value = getattr(entry, f)
        out[f] = value.value if hasattr(value, "value") else value.isoformat() if hasattr(value, "isoformat") else value
    return out


def edit_entry(entry: DiaryEntry, case: Case, *, by, values: dict) -> None:
    """:raise DomainError: not the author, or not the same day (amend instead)."""
    if not can_edit(by, entry):
        raise DomainError(_("Only its author may edit an entry, on the day it was written; "
                            "add an amendment instead."))
    _check(case, values)
    db.session.add(DiaryRevision(entry=entry, by=by, data=snapshot(entry)))
    for key, value in values.items():
        setattr(entry, key, value)
    entry.updated_at = utcnow()
    db.session.add(CaseEvent(case=case, actor=by, kind="diary_edited", from_status=case.status,
                             to_status=case.status, changes={"entry": entry.id}))
    db.session.flush()


def amend(entry: DiaryEntry, case: Case, *, by, reason: str, text: str) -> Amendment:
    """Append a correction; the entry itself is unchanged."""
    if not access.case_roles(by, case):
        raise DomainError(_("You may not do this on this case."))
    if not (reason or "").strip() or not (text or "").strip():
        raise DomainError(_("Give the correction and the reason for it."), field="text")
    amendment = Amendment(entry=entry, by=by, reason=reason.strip(), text=text.strip())
    db.session.add(amendment)
    # The timeline is read by everyone who sees the case: a confidential entry's reason stays out.
    db.session.add(CaseEvent(case=case, actor=by, kind="amended", from_status=case.status, to_status=case.status,
                             note="" if entry.confidential else reason.strip(), changes={"entry": entry.id}))
    db.session.flush()
    return amendment


__all__ = ["SessionMode", "write_entry", "edit_entry", "amend", "visible_entries", "can_write", "can_edit"]
