"""Screening a party, reading a screening (the case's mediators only), the safety plan."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import access, labels
from ..access import require
from ..errors import DomainError
from ..extensions import db
from ..forms import flash_errors
from ..parsing import arg_id
from ..submissions import Once
from . import services
from .forms import SafetyPlanForm, ScreeningForm
from .models import Occasion, Screening
from .scoring import ITEMS

bp = Blueprint("screening", __name__, url_prefix="/cases/<int:case_id>/screening")

OCCASION_LABELS = {
    Occasion.INTAKE: _l("at intake"), Occasion.PRE_SESSION: _l("before a session"),
    Occasion.INCIDENT: _l("after an incident, warning letter or protection order"),
    Occasion.SEPARATION: _l("on separation"), Occasion.PRE_SIGNING: _l("before signing (coercion check)"),
    Occasion.CLOSURE: _l("at closure"), Occasion.FOLLOW_UP: _l("at a follow-up visit"),
}
PROMPTS = {
    "medical": _l("Strangulation or smothering: arrange a medical check and have the injuries recorded (验伤)."),
    "mandatory_report": _l("A child has been harmed: report to the police now. Reporting is mandatory "
                           "(Anti-Domestic Violence Law art. 14)."),
    "crisis": _l("Suicide threat or attempt: refer to a crisis service."),
    "breach": _l("A warning letter or protection order was breached: notify the court or the police."),
    "shelter": _l("The party is afraid or unsafe tonight: offer a shelter (庇护所) and a safe way there."),
}
LEVEL_PROMPTS = {
    "red": [_l("Today: call 110 if anyone is in danger; help the party apply for an urgent personal safety "
               "protection order (decided within 24 hours); offer a shelter."),
            _l("Mediation is suspended: refer the case (police, court, shelter, legal aid) or end it for safety.")],
    "orange": [_l("No joint face-to-face sessions: only separate (背靠背) sessions, shuttle or remote."),
               _l("Before the case can be settled: record a safety plan and a referral to the women's "
                  "federation, legal aid or social work."),
               _l("Consider a warning letter (告诫书) follow-up visit and a protection order application.")],
    "yellow": [_l("Joint sessions only with each party's private, revocable consent, a support person and "
                  "staggered arrival.")],
}


def _case(case_id: int):
    return access.get_case_or_404(case_id)


@bp.route("/new", methods=["GET", "POST"])
@require("case.view")
def new(case_id: int):
    once = Once.posted(current_user)
    case = _case(case_id)
    if not services.may_screen(current_user, case):
        abort(403)
    form = ScreeningForm()
    form.party.choices = [(p.id, f"{labels.PARTY_ROLE_LABELS[p.role]} {p.name}") for p in case.parties]
    form.occasion.choices = [(o.value, OCCASION_LABELS[o]) for o in Occasion]
    if request.method == "GET":
        form.party.data = request.args.get("party", type=arg_id)
        form.occasion.data = request.args.get("occasion") or Occasion.INTAKE.value
    if request.method == "POST" and form.validate():
        party = next((p for p in case.parties if p.id == form.party.data), None)
        try:
            if form.occasion.data not in {o.value for o in Occasion}:
                raise DomainError(_("Choose the occasion."), field="occasion")
            once.claim()
            screening = services.record(
                case, party, occasion=Occasion(form.occasion.data), by=current_user,
                answers={item.number: form[f"q{item.number}"].data for item in ITEMS},
                unsafe_tonight=form.unsafe_tonight.data, breach=form.breach.data,
                child_harmed=form.child_harmed.data, note=form.note.data, asked_alone=form.asked_alone.data)
            target = once.land(url_for("screening.show", case_id=case.id, screening_id=screening.id))
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            flash(_("Screening recorded: %(level)s.", level=labels.RISK_LABELS[screening.level]),
                  "danger" if screening.level.value in ("orange", "red") else "success")
            return redirect(target)
    return render_template("screening/form.html", case=case, form=form, items=ITEMS)


@bp.route("/<int:screening_id>")
@require("case.view")
def show(case_id: int, screening_id: int):
    case = _case(case_id)
    screening = db.first_or_404(select(Screening).where(Screening.id == screening_id, Screening.case_id == case.id))
    if not services.sees_answers(current_user, case) and screening.by_id != current_user.id:
        abort(403)  # a party's answers: the case's mediators only
    codes = services.prompts_for(case, {screening.party_id: screening})
    return render_template("screening/show.html", case=case, s=screening, items=ITEMS,
                           prompts=[PROMPTS[c] for c in codes],
                           level_prompts=LEVEL_PROMPTS.get(screening.level.value, []),
                           occasion=OCCASION_LABELS[screening.occasion])


@bp.route("/safety-plan", methods=["POST"])
@require("case.view")
def safety_plan(case_id: int):
    once = Once.posted(current_user)
    case = _case(case_id)
    if not services.may_screen(current_user, case):
        abort(403)
    form = SafetyPlanForm()
    if form.validate():
        try:
            once.claim()
            services.add_safety_plan(case, measures=form.measures.data, by=current_user)
            once.land(url_for("cases.detail", case_id=case.id) + "#safety")
            db.session.commit()
            flash(_("Safety plan recorded."), "success")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
    else:  # what is wrong (empty, too long, markup), naming the field
        flash_errors(form, fallback=_("Write down the safety measures."))
    return redirect(url_for("cases.detail", case_id=case.id) + "#safety")


def init_app(app) -> None:
    @app.context_processor
    def _inject():
        return {"contacts_visible": lambda case, party: services.contacts_visible(current_user, case, party),
                "contacts_revealable": lambda case, party: services.revealing_visit(current_user, case, party)
                is not None}
