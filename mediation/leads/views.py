"""Leads: grid workers report, mediators and coordinators of the village handle them."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case
from sqlalchemy.orm import joinedload

from .. import access
from ..access import require
from ..errors import DomainError
from ..extensions import db
from . import services
from .forms import DismissForm, LeadForm
from .models import Lead, LeadStatus, Urgency

bp = Blueprint("leads", __name__, url_prefix="/leads")


def leads_query():
    return services.leads_query(current_user)


@bp.route("/")
@require("home.view")
def index():
    if not (access.can(current_user, "lead.view") or access.can(current_user, "lead.create")):
        abort(403)
    new_first = case((Lead.status == LeadStatus.NEW, 0), else_=1)
    urgent_first = case((Lead.urgency == Urgency.EMERGENCY, 0), (Lead.urgency == Urgency.URGENT, 1), else_=2)
    leads = db.session.scalars(
        leads_query().options(joinedload(Lead.unit), joinedload(Lead.reporter))
        .order_by(new_first, urgent_first, Lead.created_at.desc()).limit(200)
    ).all()
    return render_template("leads/index.html", leads=leads, dismiss_form=DismissForm(),
                           contacts_shown=_contacts_shown(leads), sealed=_sealed(leads))


def _sealed(leads) -> set[int]:
    return services.sealed(current_user, leads)


def _contacts_shown(leads) -> set[int]:
    return services.contacts_shown(current_user, leads)


@bp.route("/new", methods=["GET", "POST"])
@require("lead.create")
def new():
    form = LeadForm()
    if form.validate_on_submit():
        services.report_lead(reporter=current_user, who=form.who.data, where=form.where.data, what=form.what.data,
                             urgency=Urgency(form.urgency.data), contact_phone=form.contact_phone.data or "")
        db.session.commit()
        flash(_("Lead reported. The mediators of %(unit)s will see it.", unit=current_user.unit.name), "success")
        return redirect(url_for("leads.index"))
    return render_template("leads/new.html", form=form)


@bp.route("/<int:lead_id>/dismiss", methods=["POST"])
@require("lead.handle")
def dismiss(lead_id: int):
    lead = db.first_or_404(leads_query().where(Lead.id == lead_id))
    form = DismissForm()
    if not form.validate_on_submit():
        flash(_("Please give a reason."), "danger")
        return redirect(url_for("leads.index"))
    try:
        services.dismiss_lead(lead, reason=form.reason.data, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("Lead dismissed."), "info")
    return redirect(url_for("leads.index"))
