"""Leads: grid workers report, mediators and coordinators of the village handle them."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..access import require
from ..cases.models import Case
from ..errors import DomainError
from ..extensions import db
from ..org.models import OrgUnit
from ..screening.services import flagged
from ..submissions import Once
from ..users.models import User
from . import services
from .forms import DismissForm, LeadForm
from .models import Lead, LeadStatus, Urgency

bp = Blueprint("leads", __name__, url_prefix="/leads")


def leads_query():
    """A grid worker sees only its own leads; case workers see their subtree's."""
    return services.leads_query(current_user)


@bp.route("/")
@require("home.view")
def index():
    return _index()


def _index(refused: tuple[int, str, str] | None = None):
    """The list; ``refused``: (lead, reason typed, why) of a dismissal the server refused,
    shown at that lead with the reason kept."""
    if not (access.can(current_user, "lead.view") or access.can(current_user, "lead.create")):
        abort(403)
    new_first = case((Lead.status == LeadStatus.NEW, 0), else_=1)
    urgent_first = case((Lead.urgency == Urgency.EMERGENCY, 0), (Lead.urgency == Urgency.URGENT, 1), else_=2)
    # With the units, reporters and cases they show (not one query per lead).
    leads = db.session.scalars(
        leads_query().options(joinedload(Lead.unit).joinedload(OrgUnit.parent),
                              joinedload(Lead.reporter).lazyload(User.role_rows),
                              selectinload(Lead.case).selectinload(Case.co_mediators).lazyload(User.role_rows))
        .order_by(new_first, urgent_first, Lead.created_at.desc()).limit(200)
    ).all()
    return render_template("leads/index.html", leads=leads, dismiss_form=DismissForm(formdata=None),
                           contacts_shown=_contacts_shown(leads), sealed=_sealed(leads), refused=refused)


def _sealed(leads) -> set[int]:
    """Leads that became a restricted case the user may not see, or has not opened with a
    reason: their who, what, where, phone and case number are the case's content."""
    restricted = {lead.case.id: lead.case for lead in leads if lead.case is not None and lead.case.restricted}
    if not restricted:
        return set()
    visible = set(db.session.scalars(access.cases_query(current_user).where(Case.id.in_(restricted))
                                     .with_only_columns(Case.id)))
    return {lead.id for lead in leads if lead.case_id in restricted
            and (lead.case_id not in visible or access.content_hidden(restricted[lead.case_id]))}


def _contacts_shown(leads) -> set[int]:
    """Leads whose place and phone may be shown: all but those that became a flagged case
    (then only for that case's mediators, as on the case itself)."""
    shown = set()
    for lead in leads:
        case = lead.case
        if case is None or not flagged(case) or current_user.id in case.mediator_ids:
            shown.add(lead.id)
    return shown


@bp.route("/new", methods=["GET", "POST"])
@require("lead.create")
def new():
    once = Once.posted(current_user)
    form = LeadForm()
    if form.validate_on_submit():
        once.claim()
        services.report_lead(reporter=current_user, who=form.who.data, where=form.where.data, what=form.what.data,
                             urgency=Urgency(form.urgency.data), contact_phone=form.contact_phone.data or "")
        target = once.land(url_for("leads.index"))
        db.session.commit()
        flash(_("Lead reported. The mediators of %(unit)s will see it.", unit=current_user.unit.name), "success")
        return redirect(target)
    return render_template("leads/new.html", form=form)


@bp.route("/<int:lead_id>/dismiss", methods=["POST"])
@require("lead.handle")
def dismiss(lead_id: int):
    lead = db.first_or_404(leads_query().where(Lead.id == lead_id))
    form = DismissForm()
    if not form.validate_on_submit():
        # Shown again with the reason as typed and what is wrong with it (too long, markup...).
        why = "; ".join(str(m) for m in form.reason.errors) or _("Please give a reason.")
        flash(_("Reason for dismissing: %(why)s", why=why), "danger")
        return _index((lead.id, form.reason.data or "", why)), 422
    try:
        services.dismiss_lead(lead, reason=form.reason.data, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("Lead dismissed."), "info")
    return redirect(url_for("leads.index"))
