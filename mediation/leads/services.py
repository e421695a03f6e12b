"""Reporting and handling leads. Services flush; the view commits."""
from flask_babel import gettext as _

from ..errors import DomainError
from ..extensions import db
from ..timeutil import utcnow
from .models import Lead, LeadStatus, Urgency


def report_lead(*, reporter, who: str, where: str, what: str, urgency: Urgency, contact_phone: str = "") -> Lead:
    lead = Lead(unit_id=reporter.unit_id, reporter=reporter, who=who.strip(), where=where.strip(),
                what=what.strip(), urgency=urgency, contact_phone=contact_phone.strip())
    db.session.add(lead)
    db.session.flush()
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


def mark_converted(lead: Lead, case, *, by) -> None:
    _check_new(lead)
    lead.status = LeadStatus.CONVERTED
    lead.case_id = case.id
    lead.handled_by = by
    lead.handled_at = utcnow()
    db.session.flush()
