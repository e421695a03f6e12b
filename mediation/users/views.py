"""Account administration within the actor's subtree."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import contains_eager

from .. import access, audit
from ..access import require
from ..errors import DomainError
from ..extensions import db
from ..org.models import UPPER_TIERS, OrgUnit, Tier
from ..org.services import tree_order
from ..paging import Key, bounded_counts, keyset_page
from ..parsing import db_id
from ..stamps import changed_meanwhile, is_stale, stamp
from ..submissions import Duplicate, Once
from . import services
from .forms import UserCreateForm, UserEditForm
from .models import Role, User, UserRole

bp = Blueprint("users", __name__, url_prefix="/users")
PER_PAGE = 50
PEOPLE_KEY = Key((OrgUnit.code, User.username), ("str", "str"), descending=False)


def _unit_choices(form, *include: OrgUnit | None) -> None:
    """The unit picker: active units of the actor's subtree (plus ``include``, and the unit a
    refused form posted) in tree order, indented. Above the districts down to the towns only:
    a province has some 24,000 villages (2 MB of options); a village's own page offers
    "new account here", which comes with the village chosen."""
    listed = OrgUnit.active.is_(True)
    also = [u.id for u in include if u is not None]
    if current_user.unit.tier in UPPER_TIERS:
        listed = and_(listed, OrgUnit.tier != Tier.VILLAGE)
        posted = db_id(request.form.get(form.unit.name)) if request.method == "POST" else None
        listed = or_(listed, and_(OrgUnit.active.is_(True), OrgUnit.id == posted))
        form.unit.description = _("Villages are not listed here: open the village in the network and "
                                  "choose “New account here”.")
    shown = or_(listed, OrgUnit.id.in_(also)) if also else listed
    units = db.session.scalars(access.units_query(current_user).where(shown)).all()
    form.unit.choices = [(u.id, "　" * u.tier.depth + u.label) for u in tree_order(units)]


def _scoped_unit(unit_id: int) -> OrgUnit:
    unit = db.session.scalar(access.units_query(current_user).where(OrgUnit.id == unit_id))
    if unit is None:
        abort(404)
    return unit


def _account_facts(user: User) -> dict:
    """What the audit log keeps of an account (no password, no hash, and whether there is a phone,
    not its number: the log is never anonymised)."""
    return {"username": user.username, "display_name": user.display_name, "phone": "given" if user.phone else "none",
            "unit": f"{user.unit.label} {user.unit.code}" if user.unit else None,
            "roles": sorted(r.value for r in user.roles)}


@bp.route("/")
@require("user.view")
def index():
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    unit_code = request.args.get("unit") or ""
    stmt = access.users_query(current_user).join(User.unit)
    if q:
        # What was typed, letter for letter: % and _ are not wildcards.
        stmt = stmt.where(or_(User.username.icontains(q, autoescape=True),
                              User.display_name.icontains(q, autoescape=True)))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == Role(role))))
    unit = None
    if unit_code:
        unit = access.get_unit_or_404(unit_code)
        stmt = stmt.where(OrgUnit.path.startswith(unit.path, autoescape=True))
    # Units in tree order (codes begin with their parent's), people by username within each;
    # a page at a time after a cursor, with a bounded count: a province holds 50,000 accounts.
    # Each unit with its parent in the same query: a village's label names its town.
    listed = stmt.options(contains_eager(User.unit).joinedload(OrgUnit.parent))
    page = keyset_page(listed, PEOPLE_KEY, lambda u: (u.unit.code, u.username), per_page=PER_PAGE,
                       after=request.args.get("after"), before=request.args.get("before"))
    total = bounded_counts([stmt])[0]
    return render_template("users/index.html", page=page, total=total, q=q, role=role,
                           unit=unit, roles=list(Role))


@bp.route("/new", methods=["GET", "POST"])
@require("user.manage")
def new():
    once = Once.posted(current_user)
    form = UserCreateForm()
    chosen = access.get_unit_or_404(request.args["unit"]) if request.method == "GET" and request.args.get("unit") \
        else None
    _unit_choices(form, chosen if chosen is not None and chosen.active else None)
    if chosen is not None:
        form.unit.data = chosen.id
    if form.validate_on_submit():
        try:
            once.claim()
            user = services.create_user(
                username=form.username.data, display_name=form.display_name.data,
                phone=form.phone.data, unit=_scoped_unit(form.unit.data),
                roles=[Role(r) for r in form.roles.data], password=form.password.data,
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "username").errors.append(exc.message)
        else:
            user.must_change_password = True  # the admin knows it: the user picks their own at first login
            audit.record("admin.user_create", target=user, details=_account_facts(user))
            target = once.land(url_for("users.detail", user_id=user.id))
            db.session.commit()
            flash(_("Account %(u)s created.", u=user.username), "success")
            return redirect(target)
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<int:user_id>")
@require("user.view")
def detail(user_id: int):
    user = access.get_user_or_404(user_id)
    return render_template("users/detail.html", user=user)


def _stamp(user: User) -> str:
    return stamp(user.display_name, user.phone, user.unit_id, sorted(r.value for r in user.roles), user.active)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@require("user.manage")
def edit(user_id: int):
    user = access.get_user_or_404(user_id)
    form = UserEditForm(obj=user)
    _unit_choices(form, user.unit)
    if request.method == "GET":
        form.unit.data = user.unit_id
        form.roles.data = [r.value for r in user.roles]
        form.stamp.data = _stamp(user)
    if form.validate_on_submit() and is_stale(form.stamp.data, _stamp(user)):
        flash(changed_meanwhile(user, ("admin.user_update", "admin.user_active", "admin.user_reset")), "danger")
    elif form.validate_on_submit():
        before, phone_before = _account_facts(user), user.phone
        try:
            services.update_user(
                user, display_name=form.display_name.data, phone=form.phone.data,
                unit=_scoped_unit(form.unit.data), roles=[Role(r) for r in form.roles.data], actor=current_user,
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "display_name").errors.append(exc.message)
        else:
            after = _account_facts(user)
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if phone_before != user.phone and "phone" not in changes:
                changes["phone"] = "changed"  # one number for another: said, not shown
            if changes:
                audit.record("admin.user_update", target=user, details={"username": user.username, **changes})
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("users.detail", user_id=user.id))
    return render_template("users/form.html", form=form, user=user)


@bp.route("/<int:user_id>/active", methods=["POST"])
@require("user.manage")
def set_active(user_id: int):
    user = access.get_user_or_404(user_id)
    active = request.form.get("active") == "1"
    try:
        services.set_user_active(user, active, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        audit.record("admin.user_active", target=user, details={"username": user.username, "active": active})
        db.session.commit()
        flash(_("Account activated.") if active else _("Account deactivated."), "success")
    return redirect(url_for("users.detail", user_id=user.id))


@bp.route("/<int:user_id>/reset", methods=["POST"])
@require("user.manage")
def reset(user_id: int):
    user = access.get_user_or_404(user_id)
    try:
        once = Once.posted(current_user)
    except Duplicate:  # the result page reloaded: the password is not reset once more
        flash(_("The password was already reset from that page, and the one-time password shown there once. If it "
                "was lost, reset it again."), "info")
        return redirect(url_for("users.detail", user_id=user.id), 303)
    once.claim()
    temporary = services.reset_password(user)
    audit.record("admin.user_reset", target=user, details={"username": user.username})
    once.land(url_for("users.detail", user_id=user.id))
    db.session.commit()
    # Shown once on this page, never flashed or stored in clear.
    return render_template("users/reset_done.html", user=user, temporary=temporary)
