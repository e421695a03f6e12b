"""Recording the agreement and tracking judicial confirmation. Services flush.
``init_app`` gives the workflow ``agreement_of`` (a settled outcome needs the agreement's terms)."""
from datetime import date, timedelta

from blinker import Signal
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import access
from ..cases import workflow
from ..cases.models import SETTLED, Case, CaseEvent, CaseStatus
from ..diary.models import EntryKind
from ..errors import DomainError
from ..extensions import db
from ..i18n import fmt_date, fmt_datetime
from ..memo import per_request
from ..timeutil import local_date_of, local_today, utcnow
from .models import Agreement, AgreementKind, AgreementTerm, Confirmation

EDITABLE = frozenset({CaseStatus.IN_MEDIATION})
# Sent after a change of the judicial confirmation: confirmation_changed.send(case, agreement=..., by=...).
confirmation_changed = Signal("judicial confirmation changed")
# Categories whose core cannot be confirmed by a court: a divorce itself (民诉法解释 355).
DIVORCE_CODES = frozenset({"divorce"})


def agreement_of(case: Case) -> Agreement | None:
    """The case's agreement, with its terms (read once per request)."""
    return per_request(("agreement_of", case.id), lambda: db.session.scalars(
        select(Agreement).where(Agreement.case_id == case.id).options(joinedload(Agreement.terms))).unique().first())


def can_edit(user, case: Case) -> bool:
    return case.status in EDITABLE and access.acts_on(user, case) and case.risk_level.value != "red"


def why_not_editable(user, case: Case) -> str:
    """Why an agreement form opened earlier can no longer be saved (said with the typed text kept)."""
    if case.risk_level.value == "red":
        why = _("At red risk mediation is suspended: no agreement can be recorded.")
    elif not access.acts_on(user, case):
        why = _("The case is now held by %(unit)s: you can no longer record on it.", unit=case.unit.label)
    else:
        why = _("The agreement can be recorded only while the case is in mediation.")
    return why + " " + _("What you typed is kept below: copy it if you need it.")


def may_track(user, case: Case) -> bool:
    """Judicial confirmation: the holder's people, while the case is not closed or archived."""
    return workflow.is_writable(case) and access.acts_on(user, case)


def stale_message(agreement: Agreement) -> str:
    who = agreement.updated_by or agreement.created_by
    return _("The agreement was changed by %(who)s at %(when)s; reload the page and make your change again.",
             who=who.display_name if who else "?", when=fmt_datetime(agreement.updated_at))


def save_agreement(case: Case, *, by, kind: AgreementKind, reached_on: date, facts: str, disputed_points: str,
                   copies: int | None, terms: list[dict], expected_version: int | None = None) -> Agreement:
    """Create or replace the agreement's content while the case is in mediation.
    ``expected_version``: the version the form was filled from (0: there was none yet).

    :raise DomainError: the case is not in mediation, no term, a date in the future, or
        the agreement was saved by someone else since the form was filled.
    """
    workflow.ensure_writable(case)
    if not can_edit(by, case):
        raise DomainError(_("The agreement can be recorded only while the case is in mediation."))
    if case.risk_level.value == "red":
        raise DomainError(_("At red risk mediation is suspended: no agreement can be recorded."))
    for n, t in enumerate(terms, 1):
        text, method, deadline = ((t.get(k) or "").strip() for k in ("content", "method", "deadline"))
        if not text and (method or deadline):
            # A half-filled term would be dropped without a word.
            raise DomainError(_("Term %(n)d has a method or deadline but no text: write the term, or clear it.", n=n),
                              field="terms")
    terms = [t for t in terms if (t.get("content") or "").strip()]
    if not terms:
        raise DomainError(_("Enter at least one agreed term."), field="terms")
    if reached_on > local_today():
        raise DomainError(_("The date is in the future."), field="reached_on")
    if reached_on < case.intake_date:
        raise DomainError(_("The date is before the case was registered."), field="reached_on")
    agreement = agreement_of(case)
    if expected_version is not None and (agreement.version if agreement else 0) != expected_version:
        raise DomainError(stale_message(agreement) if agreement else _(
            "The agreement was removed meanwhile; reload the page."))
    created = agreement is None
    before = None if created else (agreement.kind.value, agreement.reached_on.isoformat())
    if created:
        agreement = Agreement(case_id=case.id, created_by=by, reached_on=reached_on, unit_id=case.unit_id)
        db.session.add(agreement)
    agreement.unit_id = case.unit_id  # the committee that writes it now signs and seals it
    agreement.kind = kind
    agreement.reached_on = reached_on
    agreement.facts = facts.strip()
    agreement.disputed_points = disputed_points.strip()
    agreement.copies = copies or len(case.parties) + 1
    agreement.terms = [AgreementTerm(position=i, content=t["content"].strip(), method=(t.get("method") or "").strip(),
                                     deadline=(t.get("deadline") or "").strip()) for i, t in enumerate(terms)]
    agreement.updated_at = utcnow()
    agreement.updated_by_id = by.id
    # The terms, the kind and the date reached; what the kind and the date were before, when changed.
    changes = {"terms": [t.content for t in agreement.terms], "kind": kind.value,
               "reached_on": reached_on.isoformat()}
    if before is not None and before[0] != kind.value:
        changes["kind_before"] = before[0]
    if before is not None and before[1] != reached_on.isoformat():
        changes["reached_on_before"] = before[1]
    db.session.add(CaseEvent(case=case, actor=by, kind="agreement", from_status=case.status, to_status=case.status,
                             changes=changes))
    db.session.flush()
    return agreement


def update_confirmation(case: Case, agreement: Agreement, *, by, status: Confirmation, applied_on: date | None,
                        decided_on: date | None, court: str, note: str) -> None:
    """Track the joint application for judicial confirmation.

    :raise DomainError: not the case's people, the case closed or archived, or a wrong date."""
    workflow.ensure_writable(case)
    if not access.acts_on(by, case):
        raise DomainError(_("You may not do this on this case."))
    if agreement.kind is AgreementKind.ORAL and status is not Confirmation.NOT_APPLIED:
        raise DomainError(_("Only a written agreement can be submitted for judicial confirmation."), field="status")
    if status is not Confirmation.NOT_APPLIED and applied_on is None:
        raise DomainError(_("Enter the date of the application."), field="applied_on")
    if status in (Confirmation.CONFIRMED, Confirmation.REJECTED) and decided_on is None:
        raise DomainError(_("Enter the date of the court's decision."), field="decided_on")
    today = local_today()
    if (applied_on and applied_on > today) or (decided_on and decided_on > today):
        raise DomainError(_("The date is in the future."), field="applied_on")
    if applied_on and applied_on > confirmation_deadline(agreement):
        raise DomainError(_("The application must be made within 30 days of the agreement (by %(date)s).",
                            date=fmt_date(confirmation_deadline(agreement))), field="applied_on")
    if decided_on and applied_on and decided_on < applied_on:
        raise DomainError(_("The decision cannot predate the application."), field="decided_on")
    if applied_on and applied_on < agreement.reached_on:
        raise DomainError(_("The application cannot predate the agreement."), field="applied_on")
    def state(status, applied_on, decided_on, court, note) -> dict:
        return {"confirmation": status.value, "applied_on": applied_on.isoformat() if applied_on else None,
                "decided_on": decided_on.isoformat() if decided_on else None, "court": court, "note": note}

    old = state(agreement.confirmation, agreement.confirmation_applied_on, agreement.confirmation_decided_on,
                agreement.confirmation_court, agreement.confirmation_note)
    new = state(status, applied_on, decided_on, court.strip(), note.strip())
    if new == old:
        return  # saved without a change: nothing to record
    agreement.confirmation = status
    agreement.confirmation_applied_on = applied_on
    agreement.confirmation_decided_on = decided_on
    agreement.confirmation_court = court.strip()
    agreement.confirmation_note = note.strip()
    agreement.updated_at, agreement.updated_by = utcnow(), by  # the inbox reads agreements changed since its look
    changes = {"confirmation": [old["confirmation"], new["confirmation"]]}
    changes |= {f: [old[f], new[f]] for f in ("applied_on", "decided_on", "court") if old[f] != new[f]}
    db.session.add(CaseEvent(case=case, actor=by, kind="confirmation", from_status=case.status,
                             to_status=case.status, changes=changes))
    db.session.flush()
    confirmation_changed.send(case, agreement=agreement, by=by)  # the inbox: the reminder is done


def confirmation_deadline(agreement: Agreement) -> date:
    """The parties may apply jointly within 30 days of the agreement taking effect (PML 33)."""
    return agreement.reached_on + timedelta(days=current_app.config["JUDICIAL_CONFIRMATION_DAYS"])


def confirmation_reminder(case: Case, agreement: Agreement | None) -> dict | None:
    """What the case page says about judicial confirmation, or None."""
    if agreement is None or agreement.kind is AgreementKind.ORAL:
        return None
    deadline = confirmation_deadline(agreement)
    left = (deadline - local_today()).days
    return {
        "deadline": deadline,
        "days_left": left,
        "due": agreement.confirmation is Confirmation.NOT_APPLIED and 0 <= left
        and left <= current_app.config["JUDICIAL_CONFIRMATION_REMIND_DAYS"],
        "expired": agreement.confirmation is Confirmation.NOT_APPLIED and left < 0,
        "divorce": case.category.code in DIVORCE_CODES,
    }


def follow_up_plan(case: Case, entries) -> list[dict]:
    """The proposed follow-up dates after settlement, each marked done when a
    follow-up visit was recorded on or after it (FOLLOW_UP_PLAN_DAYS)."""
    if case.outcome not in SETTLED or case.concluded_at is None:
        return []
    start = local_date_of(case.concluded_at)
    # Visits fill the planned slots in order: an early visit counts for the first one.
    visits = iter(sorted(e.occurred_on for e in entries if e.kind is EntryKind.FOLLOW_UP and e.occurred_on >= start))
    plan = []
    for days in current_app.config["FOLLOW_UP_PLAN_DAYS"]:
        due = start + timedelta(days=days)
        done = next(visits, None)
        plan.append({"days": days, "due": due, "done": done, "overdue": done is None and due < local_today()})
    return plan


def init_app(app) -> None:
    workflow.agreement_of.provide(agreement_of)
