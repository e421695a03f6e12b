"""Reporting and handling leads, and which leads a user sees. Services flush; the view
commits. ``reported`` and ``handled`` announce a new lead and its fate (the inbox tells
the village's mediators and the town's coordinator, and the grid worker)."""
from blinker import Signal
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from .. import access
from ..cases.models import Case
from ..errors import DomainError
from ..extensions import db
from ..timeutil import utcnow
from .models import Lead, LeadStatus, Urgency

# reported.send(lead, by=...) once a lead is written; handled.send(lead, by=...) once it is
# registered as a case or dismissed (both before the commit, in the same transaction).
reported = Signal("lead reported")
handled = Signal("lead handled")


def leads_query(user) -> Select:
    """Every list and count of leads starts here: case workers see their subtree's, a grid
    worker only its own."""
    if access.can(user, "lead.view"):
        return access.scoped(select(Lead), user, Lead.unit_id)
    return select(Lead).where(Lead.reporter_id == user.id)


def new_count(user) -> int:
    """How many leads wait for a decision among those ``leads_query`` lists (the home page)."""
    return db.session.scalar(leads_query(user).where(Lead.status == LeadStatus.NEW)
                             .with_only_columns(func.count(Lead.id)).order_by(None)) or 0


def sealed(user, leads) -> set[int]:
    """Leads that became a restricted case the user may not see, or has not opened with a
    reason: their who, what, where, phone and case number are the case's content."""
    restricted = {c.id: c for c in db.session.scalars(select(Case).where(
        Case.id.in_({lead.case_id for lead in leads if lead.case_id}), Case.restricted.is_(True)))}
    if not restricted:
        return set()
    visible = set(db.session.scalars(access.cases_query(user).where(Case.id.in_(restricted))
                                     .with_only_columns(Case.id)))
    return {lead.id for lead in leads if lead.case_id in restricted
            and (lead.case_id not in visible or access.content_hidden(restricted[lead.case_id]))}


def contacts_shown(user, leads) -> set[int]:
    """Leads whose place and phone may be shown: all but those that became a flagged case
    (one whose parties' contacts are protected): then only for that case's mediators, as on
    the case itself."""
    shown = set()
    for lead in leads:
        case = db.session.get(Case, lead.case_id) if lead.case_id else None
        if case is None or not access.protected_party_ids(case) or user.id in case.mediator_ids:
            shown.add(lead.id)
    return shown


def report_lead(*, reporter, who: str, where: str, what: str, urgency: Urgency, contact_phone: str = "") -> Lead:
    lead = Lead(unit_id=reporter.unit_id, reporter=reporter, who=who.strip(), where=where.strip(),
                what=what.strip(), urgency=urgency, contact_phone=contact_phone.strip())
    db.session.add(lead)
    db.session.flush()
    reported.send(lead, by=reporter)
    return lead


def _check_new(lead: Lead) -> None:
    if lead.status is not LeadStatus.NEW:
        raise DomainError(_("This lead has already been handled."))


def dismiss_lead(lead: Lead, *, reason: str, by) -> None:
    _check_new(lead)
    if not (reason or "").strip():
        raise DomainError(_("Please give a reason."), field="reason")
    lead.status = LeadStatus.DISMISSED
    lead.dismiss_reason = reason.strip()
    lead.handled_by = by
    lead.handled_at = utcnow()
    db.session.flush()
    handled.send(lead, by=by)


def mark_converted(lead: Lead, case, *, by) -> None:
    _check_new(lead)
    lead.status = LeadStatus.CONVERTED
    lead.case_id = case.id
    lead.handled_by = by
    lead.handled_at = utcnow()
    db.session.flush()
    handled.send(lead, by=by)
