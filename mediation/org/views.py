"""Browsing the network tree and, for station admins, editing it."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import access
from ..access import require
from ..errors import DomainError
from ..extensions import db
from ..users.models import User
from . import services
from .forms import UnitAddForm, UnitMoveForm, UnitRenameForm
from .models import OrgUnit, Tier

bp = Blueprint("org", __name__, url_prefix="/units")


@bp.route("/")
@require("unit.view")
def index():
    units = db.session.scalars(access.units_query(current_user).order_by(OrgUnit.code)).all()
    counts = services.user_counts([u.id for u in units])
    children: dict[int | None, list[OrgUnit]] = {}
    ids = {u.id for u in units}
    for u in units:
        # The user's own unit is the root of what it sees.
        children.setdefault(u.parent_id if u.parent_id in ids else None, []).append(u)
    tier_totals = {t: sum(1 for u in units if u.tier is t) for t in Tier}
    return render_template("org/index.html", roots=children.get(None, []), children=children,
                           counts=counts, tier_totals=tier_totals)


def _manage_forms(unit: OrgUnit):
    add = UnitAddForm(prefix="add")
    rename = UnitRenameForm(prefix="rename", data={"name": unit.name})
    move = UnitMoveForm(prefix="move")
    move.parent.choices = [
        (p.id, p.name)
        for p in db.session.scalars(
            access.units_query(current_user)
            .where(OrgUnit.tier == Tier.PLATFORM, OrgUnit.active.is_(True))
            .order_by(OrgUnit.code)
        )
    ]
    if unit.parent_id and request.method == "GET":
        move.parent.data = unit.parent_id
    return add, rename, move


@bp.route("/<code>")
@require("unit.view")
def detail(code: str):
    unit = access.get_unit_or_404(code)
    users = []
    if access.can(current_user, "user.view", unit):
        users = db.session.scalars(
            access.users_query(current_user).where(User.unit_id == unit.id).order_by(User.username)
        ).all()
    counts = services.user_counts([c.id for c in unit.children])
    forms = _manage_forms(unit) if access.can(current_user, "unit.manage", unit) else None
    return render_template("org/detail.html", unit=unit, users=users, counts=counts, forms=forms)


def _managed_unit(code: str) -> OrgUnit:
    unit = access.get_unit_or_404(code)
    if not access.can(current_user, "unit.manage", unit):
        abort(403)
    return unit


def _apply(unit: OrgUnit, action, success: str):
    """Run a service, commit and flash success, or roll back and flash the reason;
    either way back to the unit page."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("org.detail", code=unit.code))


def _flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "danger")


@bp.route("/<code>/children", methods=["POST"])
@require("unit.manage")
def add_child(code: str):
    parent = _managed_unit(code)
    form = UnitAddForm(prefix="add")
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("org.detail", code=parent.code))
    try:
        child = services.add_unit(parent, form.code.data, form.name.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("org.detail", code=parent.code))
    db.session.commit()
    flash(_("%(name)s added.", name=child.label), "success")
    return redirect(url_for("org.detail", code=child.code))


@bp.route("/<code>/rename", methods=["POST"])
@require("unit.manage")
def rename(code: str):
    unit = _managed_unit(code)
    form = UnitRenameForm(prefix="rename")
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("org.detail", code=unit.code))
    return _apply(unit, lambda: services.rename_unit(unit, form.name.data), _("Renamed."))


@bp.route("/<code>/active", methods=["POST"])
@require("unit.manage")
def set_active(code: str):
    unit = _managed_unit(code)
    active = request.form.get("active") == "1"
    done = _("Unit reactivated.") if active else _("Unit deactivated.")
    return _apply(unit, lambda: services.set_unit_active(unit, active, actor=current_user), done)


@bp.route("/<code>/move", methods=["POST"])
@require("unit.manage")
def move(code: str):
    unit = _managed_unit(code)
    form = UnitMoveForm(prefix="move")
    form.parent.choices = [(p, "") for p in db.session.scalars(
        select(OrgUnit.id).where(OrgUnit.id.in_(access.visible_units(current_user)),
                                 OrgUnit.tier == Tier.PLATFORM))]
    if not form.validate_on_submit():
        flash(_("Choose a platform."), "danger")
        return redirect(url_for("org.detail", code=unit.code))
    new_parent = db.session.get(OrgUnit, form.parent.data)
    done = _("Moved to %(name)s.", name=new_parent.name)
    return _apply(unit, lambda: services.move_village(unit, new_parent), done)
