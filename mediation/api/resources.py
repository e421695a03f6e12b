"""The token's account, units, categories, leads and statistics."""
import re
from decimal import Decimal

from flask import g
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import access
from ..cases.models import Category
from ..extensions import db
from ..i18n import is_chinese
from ..leads import services as leads
from ..leads.forms import DismissForm, LeadForm
from ..leads.models import Lead, LeadStatus, Urgency
from ..org.models import OrgUnit
from ..stats import services as stats
from . import schemas as s
from .common import (
    TOKEN,
    ApiError,
    blueprint,
    commit,
    decode_cursor,
    documented,
    encode_cursor,
    needs,
    run_form,
    unit_path,
    unit_ref,
    use_form_data,
    user_ref,
)

bp = blueprint("api-account", "The account of the token")
units_bp = blueprint("api-units", "The network (units of the token user's area)")
leads_bp = blueprint("api-leads", "Leads reported by grid workers")
stats_bp = blueprint("api-statistics", "The dashboard's figures")


@bp.route("/me")
@bp.response(200, s.Me)
@documented(bp)
def me():
    """The token's account: who it acts as"""
    user = current_user
    return {**user_ref(user), "unit": unit_path(user.unit), "roles": sorted(r.value for r in user.roles),
            "token": g.get(TOKEN).name, "locale": str(get_locale())}


# --- units --------------------------------------------------------------------------------------

def _unit_json(unit) -> dict:
    return {**unit_path(unit), "parent": unit.parent.code if unit.parent else None, "active": unit.active}


UNITS_PAGE = 1000  # a district's network in one page; a province's (some 26,000 units) in 27


@units_bp.route("/units")
@needs("unit.view")
@units_bp.arguments(s.UnitListQuery, location="query", as_kwargs=True)
@units_bp.response(200, s.UnitList)
@documented(units_bp)
def units(cursor: str | None = None):
    """The units of the token user's area (its unit and everything below it), each after its
    parent, by cursor (``next_cursor``), 1,000 at a time"""
    _require_units()
    stmt = access.units_query(current_user).options(joinedload(OrgUnit.parent))
    if cursor:  # the path of the last unit of the page before ("/1/5/77/": unique, each after its parent)
        after = decode_cursor(cursor, (str,))[0]
        if not isinstance(after, str) or not re.fullmatch(r"(/\d+)+/", after):  # a path this API gave
            message = _("The cursor is not valid: use next_cursor as it was given.")
            raise ApiError(400, _("Bad request"), message, errors={"cursor": [message]})
        stmt = stmt.where(OrgUnit.path > after)
    rows = db.session.scalars(stmt.order_by(OrgUnit.path).limit(UNITS_PAGE + 1)).all()
    more = len(rows) > UNITS_PAGE
    rows = rows[:UNITS_PAGE]
    return {"items": [_unit_json(u) for u in rows], "next_cursor": encode_cursor([rows[-1].path]) if more else None}


@units_bp.route("/units/<code>")
@needs("unit.view")
@units_bp.response(200, s.UnitDetail)
@documented(units_bp)
def unit(code: str):
    """One unit of the area, with the units right below it"""
    _require_units()
    u = access.get_unit_or_404(code[:32])
    return {**_unit_json(u), "children": [unit_ref(c) for c in u.children]}


def _require_units():
    if not access.can(current_user, "unit.view"):
        raise ApiError(403, _("No permission"), _("Your account may not open this page."))


@units_bp.route("/categories")
@units_bp.response(200, s.CategoryList)
@documented(units_bp)
def categories():
    """The dispute categories (a case names its category by code)"""
    rows = db.session.scalars(select(Category).order_by(Category.sort_order, Category.id))
    return {"items": [{"code": c.code, "name": c.name_zh if is_chinese() else c.name_en, "name_zh": c.name_zh,
                       "name_en": c.name_en, "active": c.active} for c in rows]}


# --- leads --------------------------------------------------------------------------------------

def lead_json(lead, sealed: set[int], shown: set[int]) -> dict:
    out = {"id": lead.id, "unit": unit_path(lead.unit), "status": lead.status, "urgency": lead.urgency,
           "sealed": lead.id in sealed, "created_at": lead.created_at}
    if lead.id in sealed:
        return out
    out.update({"who": lead.who, "what": lead.what, "reporter": user_ref(lead.reporter), "case_id": lead.case_id,
                "dismiss_reason": lead.dismiss_reason,
                "where": lead.where if lead.id in shown else None,
                "contact_phone": lead.contact_phone if lead.id in shown else None})
    return out


def _may_see_leads():
    if not (access.can(current_user, "lead.view") or access.can(current_user, "lead.create")):
        raise ApiError(403, _("No permission"), _("Your account may not open this page."))


@leads_bp.route("/leads")
@leads_bp.arguments(s.LeadQuery, location="query", as_kwargs=True)
@leads_bp.response(200, s.LeadList)
@documented(leads_bp)
def lead_list(status=None):
    """Leads: a grid worker's own, or those of the user's area; new and urgent first (at most 200)"""
    _may_see_leads()
    stmt = leads.leads_query(current_user)
    if status is not None:
        stmt = stmt.where(Lead.status == status)
    new_first = sql_case((Lead.status == LeadStatus.NEW, 0), else_=1)
    urgent_first = sql_case((Lead.urgency == Urgency.EMERGENCY, 0), (Lead.urgency == Urgency.URGENT, 1), else_=2)
    rows = db.session.scalars(stmt.options(joinedload(Lead.unit), joinedload(Lead.reporter))
                              .order_by(new_first, urgent_first, Lead.created_at.desc(), Lead.id.desc())
                              .limit(200)).all()
    sealed, shown = leads.sealed(current_user, rows), leads.contacts_shown(current_user, rows)
    return {"items": [lead_json(lead, sealed, shown) for lead in rows]}


@leads_bp.route("/leads", methods=["POST"])
@needs("lead.create")
@leads_bp.arguments(s.LeadIn)
@leads_bp.response(201, s.LeadOut)
@documented(leads_bp)
def lead_create(data):
    """Report a lead (grid workers); the unit is the reporter's"""
    if not access.can(current_user, "lead.create"):
        raise ApiError(403, _("No permission"), _("Your account may not open this page."))
    use_form_data({**data, "urgency": (data.get("urgency") or Urgency.NORMAL).value})
    form = LeadForm()
    run_form(form)
    lead = leads.report_lead(reporter=current_user, who=form.who.data, where=form.where.data, what=form.what.data,
                             urgency=Urgency(form.urgency.data), contact_phone=form.contact_phone.data or "")
    commit(target=lead)
    return lead_json(lead, set(), {lead.id}), 201, {"Location": f"/api/v1/leads/{lead.id}"}


@leads_bp.route("/leads/<int:lead_id>")
@leads_bp.response(200, s.LeadOut)
@documented(leads_bp)
def lead_detail(lead_id: int):
    """One lead"""
    _may_see_leads()
    lead = db.first_or_404(leads.leads_query(current_user).where(Lead.id == lead_id))
    return lead_json(lead, leads.sealed(current_user, [lead]), leads.contacts_shown(current_user, [lead]))


@leads_bp.route("/leads/<int:lead_id>/dismiss", methods=["POST"])
@needs("lead.handle")
@leads_bp.arguments(s.Reason)
@leads_bp.response(200, s.LeadOut)
@documented(leads_bp, 409)
def lead_dismiss(data, lead_id: int):
    """Dismiss a new lead, with the reason (to register it as a case: POST /cases with "lead")"""
    if not access.can(current_user, "lead.handle"):
        raise ApiError(403, _("No permission"), _("Your account may not open this page."))
    lead = db.first_or_404(leads.leads_query(current_user).where(Lead.id == lead_id))
    use_form_data(data)
    form = DismissForm()
    run_form(form)
    leads.dismiss_lead(lead, reason=form.reason.data, by=current_user)
    commit(target=lead)
    return lead_json(lead, set(), leads.contacts_shown(current_user, [lead]))


# --- statistics -----------------------------------------------------------------------------------

RATES = {"success_rate": "handled", "handling_rate": "registered", "satisfaction_rate": "rated",
         "avg_days": "closed_with_acceptance"}
MONEY = {"amount_disputed": "registered", "amount_agreed": "settled"}


def figures(values: dict, suppress: bool) -> dict:
    """One row of figures as it leaves the unit: counts of 1 and 2 as "<3", rates and amounts over
    fewer than 3 cases left out (null), when suppressing (``stats.services.shown``)."""
    out = {}
    for key, value in values.items():
        if key in RATES:
            rate = stats.shown_rate(value, values.get(RATES[key], 0), suppress)
            out[key] = None if rate in (None, "—") else float(rate)
        elif key in MONEY:
            out[key] = None if suppress and values.get(MONEY[key], 0) < stats.SMALL else f"{Decimal(value):.2f}"
        else:
            out[key] = stats.shown(value, suppress)
    return out


@stats_bp.route("/statistics")
@needs("stats.view")
@stats_bp.arguments(s.StatsQuery, location="query", as_kwargs=True)
@stats_bp.response(200, s.StatsOut)
@documented(stats_bp)
def statistics(**args):
    """The dashboard's figures for a unit of the area and a period, by unit below it, by month
    and by category. Small counts are suppressed unless suppress=false."""
    if not access.can(current_user, "stats.view"):
        raise ApiError(403, _("No permission"), _("Your account may not open this page."))
    unit = access.get_unit_or_404(args["unit"]) if args.get("unit") else current_user.unit
    suppress = args.get("suppress", True)
    raw = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v)) for k, v in args.items()
           if k in ("period", "month", "quarter", "year", "start", "end") and v is not None}
    notes: list = []
    period = stats.period_from_args(raw, default="year", notes=notes)  # as the dashboard
    fig = stats.compute(unit, period)
    by_unit = [{"key": child.code if child else unit.code, "label": child.label if child else _("own figures"),
                "figures": figures(values, suppress)} for child, values in fig.child_rows()]
    by_month = [{"key": first.isoformat(), "label": period.bucket_label(first), "figures": figures(values, suppress)}
                for first, values in fig.month_rows()]
    by_category = [{"key": c.code, "label": c.name_zh if is_chinese() else c.name_en,
                    "figures": figures(values, suppress)} for c, values in fig.category_rows()]
    return {"unit": unit_path(unit), "suppressed": suppress, "notes": [str(n) for n in notes],
            "period": {"kind": period.kind, "start": period.start.isoformat(), "end": period.end.isoformat(),
                       "label": period.label},
            "summary": figures(fig.summary(), suppress), "units": by_unit, "months": by_month,
            "categories": by_category}

