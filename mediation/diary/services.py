"""Writing, editing (same day, by the author) and amending diary entries. Services flush.
A written entry is announced through ``entry_written`` (transfers complete a delegated visit)."""
from datetime import date, time

from blinker import Signal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import access
from ..cases import workflow
from ..cases.models import Case, CaseEvent, CaseStatus
from ..errors import DomainError
from ..extensions import db
from ..i18n import fmt_date, is_chinese
from ..labels import (
    ENTRY_KIND_LABELS,
    MODE_LABELS,
    PARTY_ROLE_LABELS,
    PERFORMANCE_LABELS,
    SATISFACTION_LABELS,
)
from ..timeutil import local_date_of, local_today, utcnow
from ..users.models import User
from .models import Amendment, DiaryEntry, DiaryRevision, EntryKind, Performance, Satisfaction, SessionMode

# A diary is kept from registration (enquiries before accepting or declining) until the case is closed.
WRITABLE_STATUSES = frozenset({
    CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION, CaseStatus.CONCLUDED,
    CaseStatus.FOLLOW_UP,
})
FIELDS = ("kind", "occurred_on", "start_time", "duration_minutes", "place", "mode", "party_ids", "mediator_ids",
          "others_present", "issues", "positions", "proposals", "result", "next_step", "next_date",
          "confidential", "performance", "satisfaction", "remaining_risk")


def can_write(user, case: Case) -> bool:
    return case.status in WRITABLE_STATUSES and (access.acts_on(user, case) or access.is_delegate(user, case))


def may_amend(user, case: Case) -> bool:
    """Amendments: the holder's people, while the case is not closed or archived."""
    return workflow.is_writable(case) and access.acts_on(user, case)


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
            .where(Case.id.in_(access.cases_query(user).with_only_columns(Case.id)), access.content_shown_clause(),
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


def has_follow_up_visit(case: Case) -> bool:
    return db.session.scalar(select(DiaryEntry.id).where(DiaryEntry.case_id == case.id,
                                                         DiaryEntry.kind == EntryKind.FOLLOW_UP).limit(1)) is not None


# Sent after an entry is written, before the final flush: entry_written.send(case, entry=..., by=...).
entry_written = Signal("diary entry written")


def can_edit(user, entry: DiaryEntry) -> bool:
    """The author, on the (local) day the entry was written, while still working the case
    (a unit that passed the case on reads it; a delegated visitor keeps its own entry)."""
    if entry.author_id != user.id or local_date_of(entry.created_at) != local_today():
        return False
    case = db.session.get(Case, entry.case_id)
    return case.status in WRITABLE_STATUSES and (access.acts_on(user, case) or access.is_delegate(user, case))


def _check(case: Case, values: dict) -> None:
    if values["kind"] is EntryKind.SESSION and values.get("mode") is None:
        raise DomainError(_("Choose how the session was held."), field="mode")
    # What the risk level allows (SCREENING.md §4): no joint session from orange, none at red.
    if values["kind"] is EntryKind.SESSION and case.risk_level.value == "red":
        raise DomainError(_("At red risk mediation is suspended: no session can be held."), field="kind")
    if case.risk_level.value in ("orange", "red") and values.get("mode") is SessionMode.JOINT:
        raise DomainError(_("At orange or red risk the parties do not meet face to face: hold separate (背靠背), "
                            "shuttle or remote contacts."), field="mode")
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
    workflow.ensure_writable(case)
    if not can_write(by, case):
        raise DomainError(_("The diary of this case cannot be written now."))
    _check(case, values)
    entry = DiaryEntry(case_id=case.id, author=by, unit_id=case.unit_id, **values)
    db.session.add(entry)
    db.session.flush()
    db.session.add(CaseEvent(case=case, actor=by, kind="diary", from_status=case.status, to_status=case.status,
                             changes={"entry": entry.id, "kind": entry.kind.value}))
    entry_written.send(case, entry=entry, by=by)  # transfers: a delegated visit is done when its unit records it
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
    workflow.ensure_writable(case)
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
    """Append a correction; the entry itself is unchanged.

    :raise DomainError: not the case's people, the case closed or archived, or no reason."""
    workflow.ensure_writable(case)
    if not access.acts_on(by, case):
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


def _shown(field: str, value, case: Case) -> str:
    """A snapshot value (see ``snapshot``) as the entry page shows it."""
    if value is None or value == "" or value == []:
        return "—"
    enums = {"kind": (EntryKind, ENTRY_KIND_LABELS), "mode": (SessionMode, MODE_LABELS),
             "performance": (Performance, PERFORMANCE_LABELS), "satisfaction": (Satisfaction, SATISFACTION_LABELS)}
    if field in enums:
        cls, labels = enums[field]
        return str(labels[cls(value)])
    if field in ("occurred_on", "next_date"):
        return fmt_date(date.fromisoformat(value))
    if field == "start_time":
        return time.fromisoformat(value).strftime("%H:%M")
    if field == "confidential":
        return str(_l("yes") if value else _l("no"))
    sep = "、" if is_chinese() else ", "
    if field == "party_ids":
        names = {p.id: p.name for p in case.parties}
        return sep.join(names.get(i, "?") for i in value)
    if field == "mediator_ids":
        return sep.join(getattr(db.session.get(User, i), "display_name", "?") for i in value)
    return str(value)


def revision_history(entry: DiaryEntry, case: Case) -> list[dict]:
    """The same-day edits of an entry, oldest first: when, by whom, and each field it
    changed, before and after ({"at", "by", "changes": [{"label", "before", "after"}]}).
    Each revision holds the entry as it was before that edit."""
    labels = {"kind": _l("Kind"), "occurred_on": _l("Date"), "start_time": _l("Time"),
              "duration_minutes": _l("Duration (minutes)"), "place": _l("Place"), "mode": _l("How it was held"),
              "party_ids": _l("Parties present"), "mediator_ids": _l("Mediators present"),
              "others_present": _l("Others present"), "issues": _l("Issues discussed"), "proposals": _l("Proposals"),
              "result": _l("Result and progress"), "next_step": _l("Next step"), "next_date": _l("Next date"),
              "confidential": _l("Confidential"), "performance": _l("Agreement performed"),
              "satisfaction": _l("Satisfaction"), "remaining_risk": _l("Remaining risk")}
    parties = {str(p.id): p for p in case.parties}
    states = [r.data for r in entry.revisions] + [snapshot(entry)]
    history = []
    for revision, before, after in zip(entry.revisions, states, states[1:], strict=False):
        changes = []
        for field in FIELDS:
            old, new = before.get(field), after.get(field)
            if field == "positions":
                for pid in sorted(set(old or {}) | set(new or {}), key=int):
                    if (old or {}).get(pid, "") != (new or {}).get(pid, ""):
                        p = parties.get(pid)
                        label = (_("Position of %(name)s (%(role)s)", name=p.name, role=PARTY_ROLE_LABELS[p.role])
                                 if p else _("Position"))
                        changes.append({"label": label, "before": (old or {}).get(pid) or "—",
                                        "after": (new or {}).get(pid) or "—"})
            elif old != new and not (old in (None, "", []) and new in (None, "", [])):
                changes.append({"label": str(labels[field]), "before": _shown(field, old, case),
                                "after": _shown(field, new, case)})
        history.append({"at": revision.at, "by": revision.by, "changes": changes})
    return history


def init_app(app) -> None:
    """Tell the workflow what it asks of the diary (closing needs entries and, after a
    settlement, a follow-up visit)."""
    workflow.entry_count.provide(entry_count)
    workflow.has_follow_up_visit.provide(has_follow_up_visit)


__all__ = ["SessionMode", "write_entry", "edit_entry", "amend", "visible_entries", "can_write", "can_edit",
           "revision_history"]
