"""Writing, editing (same day, by the author) and amending diary entries. Services flush.
A written entry is announced through ``entry_written`` (transfers complete a delegated visit)."""
from datetime import date, datetime, time, timedelta

from blinker import Signal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..cases import workflow
from ..cases.models import Case, CaseEvent, CaseStatus
from ..errors import DomainError, raise_all
from ..extensions import db
from ..i18n import fmt_date, is_chinese
from ..labels import (
    ENTRY_KIND_LABELS,
    MODE_LABELS,
    PARTY_ROLE_LABELS,
    PERFORMANCE_LABELS,
    SATISFACTION_LABELS,
    STATUS_LABELS,
)
from ..memo import per_request
from ..timeutil import local_date_of, local_now, local_today, utcnow
from ..users.models import User
from .models import Amendment, DiaryEntry, DiaryRevision, EntryKind, Performance, Satisfaction, SessionMode

# A diary is kept from registration (enquiries before accepting or declining) until the case is closed.
WRITABLE_STATUSES = frozenset({
    CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION, CaseStatus.CONCLUDED,
    CaseStatus.FOLLOW_UP,
})
FIELDS = ("kind", "occurred_on", "start_time", "duration_minutes", "place", "mode", "party_ids", "mediator_ids",
          "others_present", "issues", "positions", "proposals", "result", "next_step", "next_date",
          "confidential", "performance", "term_performance", "satisfaction", "remaining_risk")


def can_write(user, case: Case) -> bool:
    return case.status in WRITABLE_STATUSES and (access.acts_on(user, case) or access.is_delegate(user, case))


def why_not_writable(user, case: Case, *, kept: bool = True) -> str:
    """Why a form opened on this case can no longer be saved (it moved, closed or was archived
    meanwhile): said with the typed text kept (``kept``), where a 403 page lost it."""
    if case.status not in WRITABLE_STATUSES:
        why = _("The case is now %(status)s: nothing more can be recorded on it.", status=STATUS_LABELS[case.status])
    else:
        why = _("The case is now held by %(unit)s: you can no longer record on it.", unit=case.unit.label)
    return f"{why} {_('What you typed is kept below: copy it if you need it.')}" if kept else why


def visit_only(user, case: Case) -> bool:
    """A unit given a follow-up visit on a case it does not hold records that visit, nothing else."""
    return not access.acts_on(user, case) and access.is_delegate(user, case)


def _check_visit_only(user, case: Case, values: dict) -> None:
    """A visiting unit writes, or edits into, nothing but its follow-up visit."""
    if values.get("kind") is not EntryKind.FOLLOW_UP and visit_only(user, case):
        raise DomainError(_("Your unit was asked for a follow-up visit on this case: record that visit, not other "
                            "entries."), "kind")


def may_amend(user, case: Case) -> bool:
    """Amendments: the holder's people, while the case is not closed or archived."""
    return workflow.is_writable(case) and access.acts_on(user, case)


def sees_confidential(user, case: Case) -> bool:
    """Confidential (caucus) entries: the case's mediators only."""
    return user.id in case.mediator_ids


def entries_of(case: Case) -> list[DiaryEntry]:
    """Every entry of the case in diary order, with authors, amendments and earlier versions
    (a fixed number of queries, read once per request)."""
    return per_request(("entries_of", case.id), lambda: list(db.session.scalars(
        select(DiaryEntry).where(DiaryEntry.case_id == case.id)
        .options(joinedload(DiaryEntry.author).lazyload(User.role_rows), joinedload(DiaryEntry.unit),
                 joinedload(DiaryEntry.amendments), joinedload(DiaryEntry.revisions))
        .order_by(DiaryEntry.occurred_on, DiaryEntry.start_time, DiaryEntry.id)).unique()))


def visible_entries(user, case: Case) -> list[DiaryEntry]:
    if sees_confidential(user, case):
        return list(entries_of(case))
    return [e for e in entries_of(case) if not e.confidential or e.author_id == user.id]


def book_days(user, first, end, *, mine_only: bool, confidential: bool = False) -> list[tuple]:
    """Entries from ``first`` up to ``end`` of cases in the user's scope (only the
    user's own when ``mine_only``), grouped by day: [(date, [(case, entry), ...])].
    Confidential entries only for their cases' mediators."""
    # With what the book prints of them: parties, mediators, amendments (not one query each).
    stmt = (select(DiaryEntry, Case).join(Case, DiaryEntry.case_id == Case.id)
            .where(access.sees_case(user, Case.id), access.content_shown_clause(),
                   DiaryEntry.occurred_on >= first, DiaryEntry.occurred_on < end)
            .options(joinedload(DiaryEntry.amendments), selectinload(Case.parties),
                     joinedload(Case.lead_mediator).lazyload(User.role_rows),
                     joinedload(Case.co_mediators).lazyload(User.role_rows))
            .order_by(DiaryEntry.occurred_on, DiaryEntry.start_time, DiaryEntry.id))
    if mine_only:
        stmt = stmt.where(DiaryEntry.author_id == user.id)
    days: dict = {}
    for entry, case in db.session.execute(stmt).unique().all():
        if entry.confidential and not (confidential and sees_confidential(user, case)):
            continue  # printed only on purpose, and only for the case's mediators
        days.setdefault(entry.occurred_on, []).append((case, entry))
    return sorted(days.items())


def entry_number(entry: DiaryEntry) -> int:
    """The entry's place in its case's diary (1, 2, …), counting every entry in the diary's
    order, so that the number does not depend on who asks."""
    ids = list(db.session.scalars(select(DiaryEntry.id).where(DiaryEntry.case_id == entry.case_id)
                                  .order_by(DiaryEntry.occurred_on, DiaryEntry.start_time, DiaryEntry.id)))
    return ids.index(entry.id) + 1


def entry_count(case: Case) -> int:
    return len(entries_of(case))


def has_follow_up_visit(case: Case) -> bool:
    return any(e.kind is EntryKind.FOLLOW_UP for e in entries_of(case))


# Sent after an entry is written, before the final flush: entry_written.send(case, entry=..., by=...).
entry_written = Signal("diary entry written")
# Sent after an entry is edited (its plan may have changed): entry_edited.send(case, entry=..., by=...).
entry_edited = Signal("diary entry edited")


def can_edit(user, entry: DiaryEntry) -> bool:
    """The author, on the (local) day the entry was written, while still working the case
    (a unit that passed the case on reads it; a delegated visitor keeps its own entry)."""
    if entry.author_id != user.id or local_date_of(entry.created_at) != local_today():
        return False
    case = db.session.get(Case, entry.case_id)
    return case.status in WRITABLE_STATUSES and (access.acts_on(user, case) or access.is_delegate(user, case))


# A phone's clock and the server's may differ a little, and "we start at two" is typed at five to.
TIME_GRACE = timedelta(minutes=10)


def _later_than_now(day: date, start: time) -> bool:
    """A time today that has not come yet: a slip (a morning typed for an afternoon, or the next
    appointment, which goes in "next date"), refused like a date ahead."""
    now = local_now()
    return day == now.date() and datetime.combine(day, start, tzinfo=now.tzinfo) > now + TIME_GRACE


def problems(case: Case, values: dict) -> list[tuple[str, str]]:
    """Every problem with an entry's values, as (field, message), all at once (a form shows
    them together). Values a form could not read are None and are not judged again."""
    out: list[tuple[str, str]] = []
    kind, mode, day = values.get("kind"), values.get("mode"), values.get("occurred_on")
    if kind is EntryKind.SESSION and mode is None:
        out.append(("mode", _("Choose how the session was held.")))
    # What the risk level allows (SCREENING.md §4): no joint session from orange, none at red.
    if kind is EntryKind.SESSION and case.risk_level.value == "red":
        out.append(("kind", _("At red risk mediation is suspended: no session can be held.")))
    if case.risk_level.value in ("orange", "red") and mode is SessionMode.JOINT:
        out.append(("mode", _("At orange or red risk the parties do not meet face to face: hold separate (背靠背), "
                              "shuttle or remote contacts.")))
    if day is not None and day > local_today():
        out.append(("occurred_on", _("The date is in the future.")))
    elif day is not None and values.get("start_time") is not None and _later_than_now(day, values["start_time"]):
        out.append(("start_time", _("The time is later than now.")))
    if day is not None and day < case.intake_date:
        out.append(("occurred_on", _("The date is before the case was registered.")))
    if day is not None and values.get("next_date") and values["next_date"] < day:
        out.append(("next_date", _("The next date is before this entry's date.")))
    if kind is EntryKind.FOLLOW_UP and values.get("performance") is None:
        out.append(("performance", _("Record whether the agreement was performed.")))
    for item in values.get("term_performance") or []:
        if item.get("performance") not in {p.value for p in Performance} or not (item.get("term") or "").strip():
            out.append(("term_performance", _("Record for each term of the agreement whether it was performed.")))
            break
    return out


def overall_performance(term_performance: list[dict]) -> Performance | None:
    """The agreement as a whole from its terms: performed when every term is, not performed
    when none is (not even in part), else partly."""
    found = {item.get("performance") for item in term_performance}
    if not found or not found <= {p.value for p in Performance}:
        return None
    if found == {Performance.PERFORMED.value}:
        return Performance.PERFORMED
    if found == {Performance.NOT.value}:
        return Performance.NOT
    return Performance.PARTLY


def _check(case: Case, values: dict) -> None:
    """:raise DomainError: with every problem found."""
    raise_all(problems(case, values))
    party_ids = {p.id for p in case.parties}
    values["party_ids"] = [i for i in values.get("party_ids", []) if i in party_ids]
    values["positions"] = {str(k): v.strip() for k, v in values.get("positions", {}).items()
                           if int(k) in party_ids and v.strip()}
    if values.get("term_performance"):
        values["term_performance"] = [{"term": item["term"].strip(), "performance": item["performance"]}
                                      for item in values["term_performance"]]
        values["performance"] = overall_performance(values["term_performance"])


def work_unit_id(user, case: Case) -> int:
    """The unit whose work an entry records: the holder, or for the visitor of a delegated
    follow-up (who does not act on the case) the unit given the visit."""
    if not access.acts_on(user, case):
        delegations = access.open_delegations_for(user, case)
        if delegations:
            return delegations[0].unit_id
    return case.unit_id


def write_entry(case: Case, *, by, values: dict) -> DiaryEntry:
    """:raise DomainError: the case is not open for the diary, or a value is wrong."""
    workflow.ensure_writable(case)
    if not can_write(by, case):
        raise DomainError(_("The diary of this case cannot be written now."))
    _check_visit_only(by, case, values)
    _check(case, values)
    entry = DiaryEntry(case_id=case.id, author=by, unit_id=work_unit_id(by, case), **values)
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
    _check_visit_only(by, case, values)
    _check(case, values)
    db.session.add(DiaryRevision(entry=entry, by=by, data=snapshot(entry)))
    for key, value in values.items():
        setattr(entry, key, value)
    entry.updated_at = utcnow()
    db.session.add(CaseEvent(case=case, actor=by, kind="diary_edited", from_status=case.status,
                             to_status=case.status, changes={"entry": entry.id}))
    entry_edited.send(case, entry=entry, by=by)  # inbox: the plan's items follow the edited plan
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
    if field == "term_performance":
        known = {p.value: p for p in Performance}
        return "\n".join(f"{item.get('term', '')}：{PERFORMANCE_LABELS[known[item['performance']]]}"
                         if item.get("performance") in known else str(item.get("term", "")) for item in value)
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
              "term_performance": _l("Each term performed"),
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
