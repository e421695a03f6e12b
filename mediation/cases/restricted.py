"""Restricted cases (限制访问): only named users see them, and opening one asks for a
reason that goes to the audit log (once per case per login session). The visibility
rule itself is in ``access.cases_query``; the steps (and their effects) are workflow transitions."""
from datetime import timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from .. import access, audit
from ..access import require
from ..audit.services import last_change
from ..errors import is_api_request
from ..extensions import db
from ..forms import AppForm, MultiSelect
from ..labels import ROLE_LABELS
from ..org.models import OrgUnit
from ..submissions import Duplicate, Once
from ..timeutil import utcnow
from ..users.models import Role, User, UserRole
from .models import Case

bp = Blueprint("restricted", __name__, url_prefix="/cases/<int:case_id>")
OPENED = access.OPENED_RESTRICTED
OPENED_JUST_NOW_MINUTES = 10  # a second tap, or a retry on a slow network


class OpenForm(AppForm):
    reason = TextAreaField(_l("Why do you open this restricted case?"),
                           validators=[DataRequired(_l("Please give a reason.")),
                                       Length(max=200, message=_l("At most 200 characters."))],
                           render_kw={"rows": 2})


class RestrictForm(AppForm):
    named_users = MultiSelect(_l("Who may see the case besides its mediators"), coerce=int, validate_choice=True)
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Please give a reason.")),
        Length(max=2000, message=_l("At most %(max)d characters.", max=2000))],
        render_kw={"rows": 2})


# --- the restrict step's form (its effect is in ``workflow``) ---------------------------------

def candidates(case: Case) -> list[User]:
    """Who can be named: active staff who could see the case by its units."""
    staff = select(UserRole.user_id).where(UserRole.role.in_([Role.MEDIATOR, Role.COORDINATOR, Role.ADMIN]))
    # The case's unit, the units above it (on its path) and those below it, in the query: a
    # province's deployment has tens of thousands of staff. Units and roles with them (the labels).
    above = case.unit.path_ids
    line = select(OrgUnit.id).where(or_(OrgUnit.id.in_(above),
                                        OrgUnit.path.startswith(case.unit.path, autoescape=True)))
    return list(db.session.scalars(
        select(User).options(joinedload(User.unit), selectinload(User.role_rows))
        .where(User.active.is_(True), User.id.in_(staff), User.unit_id.in_(line))
        .order_by(User.unit_id, User.display_name)).all())


def build(case: Case, name: str):
    """(form, to_data, hints) for the generic action page."""
    if name != "restrict":
        return None
    form = RestrictForm()
    # Each named with unit and roles, so that one who can lift the restriction (a coordinator or
    # an administrator over the case's unit) can be told apart. The one restricting and the
    # case's mediators always see it: shown ticked and said so (still valid choices for the API).
    always = {current_user.id, *case.mediator_ids}
    people, sees = candidates(case), _("always sees it")

    def label(u) -> str:
        roles = "、".join(str(ROLE_LABELS[r]) for r in sorted(u.roles, key=lambda r: r.value))
        return f"{u.display_name}（{u.unit.name} · {roles}）" + (f"　{sees}" if u.id in always else "")

    form.named_users.choices = [(u.id, label(u)) for u in people]
    if request.method == "GET":
        form.named_users.data = [u.id for u in people if u.id in always]
    by_id = {u.id: u for u in people}
    return form, lambda f: {"named_users": [by_id[i] for i in f.named_users.data or [] if i in by_id],
                            "reason": f.reason.data}, [
        _("Only the users named here, the case's mediators and you will see the case; each opening asks "
          "for a reason and is recorded in the audit log."),
        _("Name at least one coordinator or administrator over the case's unit: only they can lift the "
          "restriction.")]


# --- opening ----------------------------------------------------------------------------------

def _needs_reason(case_id: int) -> bool:
    case = db.session.get(Case, case_id)
    return bool(case and access.content_hidden(case))


@bp.route("/open", methods=["GET", "POST"])
@require("case.view")
def open_case(case_id: int):
    case = access.get_case_or_404(case_id)
    form = OpenForm()
    if form.validate_on_submit():
        # A double tap records the reason once. The second tap lands where the first did, and
        # opens the case for this session too: the first tap's answer (its cookie) may be lost.
        try:
            once = Once.posted(current_user)
            once.claim()
        except Duplicate as dup:
            db.session.rollback()
            if _opened_just_now(case, dup.target):
                access.mark_opened(case.id)
            raise
        audit.record("case.open_restricted", target=case, details={"number": case.number,
                                                                    "reason": form.reason.data.strip()})
        target = request.args.get("next") or ""
        if not target.startswith(f"/cases/{case.id}"):
            target = url_for("cases.detail", case_id=case.id)
        once.land(target)
        db.session.commit()
        access.mark_opened(case.id)
        return redirect(target)
    return render_template("cases/open_restricted.html", case=case, form=form)


def _opened_just_now(case: Case, landed_at: str) -> bool:
    """The first tap of this submission opened this very case, with its reason in the log,
    minutes ago: not a key of another form (or another case) used again to skip the reason."""
    path = landed_at.split("?", 1)[0].split("#", 1)[0]
    if path != f"/cases/{case.id}" and not path.startswith(f"/cases/{case.id}/"):
        return False
    last = last_change(case, ("case.open_restricted",))
    return (last is not None and last.actor_id == current_user.id
            and last.at >= utcnow() - timedelta(minutes=OPENED_JUST_NOW_MINUTES))


@bp.app_template_global("content_hidden")
def content_hidden(case: Case) -> bool:
    """For lists: a restricted case shows its number only until it is opened with a reason."""
    return access.content_hidden(case)


def init_app(app) -> None:
    @app.before_request
    def _ask_for_a_reason():
        """Any page of a restricted case asks first why it is opened (404 stays 404 for others)."""
        case_id = (request.view_args or {}).get("case_id")
        if case_id is None or request.endpoint == "restricted.open_case" or not current_user.is_authenticated:
            return None
        if is_api_request():  # the API answers 403 with what to do (POST .../open with a reason)
            return None
        if not _needs_reason(case_id):
            return None
        access.get_case_or_404(case_id)  # not named: 404 as if it did not exist
        if request.method != "GET":
            abort(403)
        return redirect(url_for("restricted.open_case", case_id=case_id, next=request.full_path))

