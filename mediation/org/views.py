"""Browsing the network tree and, for station admins, editing it."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from .. import access, audit
from ..access import require
from ..errors import DomainError
from ..extensions import db
from ..stamps import changed_meanwhile, is_stale, stamp
from ..submissions import Once
from ..users.models import User
from . import services
from .forms import UnitAddForm, UnitMoveForm, UnitRenameForm
from .models import UPPER_TIERS, OrgUnit, Tier

bp = Blueprint("org", __name__, url_prefix="/units")


@bp.route("/")
@require("unit.view")
def index():
    stmt = access.units_query(current_user)
    tier_totals = dict(db.session.execute(stmt.with_only_columns(OrgUnit.tier, func.count())
                                          .group_by(OrgUnit.tier)).all())
    tier_totals = {t: tier_totals.get(t, 0) for t in Tier}
    if current_user.unit.tier in UPPER_TIERS:
        # A city or the province has thousands of towns and tens of thousands of villages (4 MB
        # of tree): its tree stops at the districts, and each district's page goes on from there.
        stmt = stmt.where(OrgUnit.tier.in_([*UPPER_TIERS, Tier.STATION]))
    units = db.session.scalars(stmt.order_by(OrgUnit.code)).all()
    counts = services.user_counts([u.id for u in units])
    children: dict[int | None, list[OrgUnit]] = {}
    ids = {u.id for u in units}
    for u in units:
        # The user's own unit is the root of what it sees.
        children.setdefault(u.parent_id if u.parent_id in ids else None, []).append(u)
    cut = [u.id for u in units if u.tier is Tier.STATION and u.id not in children]
    below = dict(db.session.execute(select(OrgUnit.parent_id, func.count()).where(OrgUnit.parent_id.in_(cut))
                                    .group_by(OrgUnit.parent_id)).all()) if cut else {}
    return render_template("org/index.html", roots=children.get(None, []), children=children,
                           counts=counts, tier_totals=tier_totals, below=below)


def _manage_forms(unit: OrgUnit, add=None, rename=None):
    add = add or UnitAddForm(prefix="add", formdata=None)
    rename = rename or UnitRenameForm(prefix="rename", formdata=None, data={
        "name": unit.name, "stamp": stamp(unit.name, unit.active, unit.parent_id)})
    move = UnitMoveForm(prefix="move", formdata=None)
    stmt = access.units_query(current_user).where(OrgUnit.tier == Tier.PLATFORM, OrgUnit.active.is_(True))
    if unit.tier is Tier.VILLAGE and unit.parent is not None:
        # A village stays in its district (services.move_village): the towns of its station only.
        stmt = stmt.where(OrgUnit.parent_id == unit.parent.parent_id)
    platforms = db.session.scalars(stmt.order_by(OrgUnit.code))
    move.parent.choices = [(p.id, p.name) for p in platforms]
    move.parent.data = unit.parent_id
    return add, rename, move


def _render_detail(unit: OrgUnit, add=None, rename=None):
    """The unit page; a failed add or rename comes back with what was typed and why."""
    ancestors = services.load_ancestors(unit)  # noqa: F841 (held while the page renders)
    users = []
    if access.can(current_user, "user.view", unit):
        users = db.session.scalars(
            access.users_query(current_user).where(User.unit_id == unit.id)
            .order_by(User.active.desc(), User.username)
        ).all()
    counts = services.user_counts([c.id for c in unit.children])
    forms = _manage_forms(unit, add, rename) if access.can(current_user, "unit.manage", unit) else None
    status = 422 if (add and add.errors) or (rename and rename.errors) else 200
    return render_template("org/detail.html", unit=unit, users=users, counts=counts, forms=forms,
                           active_users=sum(1 for u in users if u.active)), status


@bp.route("/<code>")
@require("unit.view")
def detail(code: str):
    return _render_detail(access.get_unit_or_404(code))


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


@bp.route("/<code>/children", methods=["POST"])
@require("unit.manage")
def add_child(code: str):
    once = Once.posted(current_user)
    parent = _managed_unit(code)
    form = UnitAddForm(prefix="add")
    if form.validate_on_submit():
        try:
            once.claim()
            child = services.add_unit(parent, form.code.data, form.name.data)
            audit.record("admin.unit_create", target=child, details={"code": child.code, "name": child.name,
                                                                     "parent": parent.code})
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "code").errors.append(exc.message)
        else:
            target = once.land(url_for("org.detail", code=child.code))
            db.session.commit()
            flash(_("%(name)s added.", name=child.label), "success")
            return redirect(target)
    return _render_detail(parent, add=form)


@bp.route("/<code>/rename", methods=["POST"])
@require("unit.manage")
def rename(code: str):
    unit = _managed_unit(code)
    form = UnitRenameForm(prefix="rename")
    if form.validate_on_submit() and is_stale(form.stamp.data, stamp(unit.name, unit.active, unit.parent_id)):
        flash(changed_meanwhile(unit, ("admin.unit_update", "admin.unit_create")), "danger")
    elif form.validate_on_submit():
        try:
            old_name = unit.name
            services.rename_unit(unit, form.name.data)
            audit.record("admin.unit_update", target=unit, details={"code": unit.code, "name": [old_name, unit.name]})
        except DomainError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Renamed."), "success")
            return redirect(url_for("org.detail", code=unit.code))
    return _render_detail(unit, rename=form)


@bp.route("/<code>/active", methods=["POST"])
@require("unit.manage")
def set_active(code: str):
    unit = _managed_unit(code)
    active = request.form.get("active") == "1"
    done = _("Unit reactivated.") if active else _("Unit deactivated.")
    audit.record("admin.unit_update", target=unit, details={"code": unit.code, "active": active})
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
    audit.record("admin.unit_update", target=unit, details={
        "code": unit.code, "parent": [unit.parent.code if unit.parent else None, new_parent.code]})
    return _apply(unit, lambda: services.move_village(unit, new_parent), done)
