"""The form of each workflow step, for the case page's action page and the JSON API alike:
how to build it for a case (with the choices the user has) and read the workflow data back
from it, and why a step is refused before its form. The rules stay in ``workflow``."""
from dataclasses import dataclass, field

from flask_babel import gettext as _

from .. import access
from ..extensions import db
from ..i18n import fmt_datetime
from ..screening import actions as risk_steps
from ..transfers import actions as moving_steps
from . import restricted, services, workflow
from .forms import AssignForm, ConcludeForm, NoteForm, ReasonForm, SafetyEndForm
from .models import Case, Outcome


@dataclass
class Step:
    transition: workflow.Transition
    form: object
    to_data: object = None  # form -> workflow data, for the steps whose feature builds the form
    hints: list = field(default_factory=list)
    candidates: list = field(default_factory=list)  # who may be named mediator (assign, reassign)
    warnings: dict = field(default_factory=dict)  # candidate id -> conflict-of-interest warnings


def _action_form(t: workflow.Transition):
    if t.name == "end_for_safety":
        return SafetyEndForm()
    if "outcome" in t.needs:
        return ConcludeForm()
    if "lead_mediator" in t.needs:
        form = AssignForm()
        if "reason" not in t.needs:
            del form.reason  # a first assignment changes nothing: no "reason for the change"
        return form
    if "reason" in t.needs:
        return ReasonForm()
    return NoteForm()


def refusal(case: Case, t: workflow.Transition, user) -> tuple[int, str] | None:
    """(403 or 409, message) when ``user`` may not take ``t`` on the case now, else None:
    403 for someone with no part in the case; a step that exists now but is not theirs; 409 for
    a step the case is not in a state for (usually someone else moved it on meanwhile)."""
    if t in workflow.allowed(case, user):
        return None
    if not access.case_roles(user, case):
        return 403, _("You may not do this on this case.")
    if case.status in t.source:  # the step exists now, but not for this user (e.g. sent to another unit)
        return 403, _("“%(action)s” is not yours to take on this case.", action=t.label)
    return 409, _("“%(action)s” is not possible now: the case is %(status)s (last changed by %(who)s at %(when)s).",
                  action=t.label, status=workflow.status_label(case.status),
                  who=case.updated_by.display_name if case.updated_by else "—", when=fmt_datetime(case.updated_at))


def build(case: Case, t: workflow.Transition, user, *, fill: bool = False) -> Step:
    """The step's form with its choices. ``fill``: show the current mediators (a GET of the page)."""
    built = moving_steps.build(case, t.name) or risk_steps.build(case, t.name) or restricted.build(case, t.name)
    form, to_data, hints = built if built else (_action_form(t), None, [])
    step = Step(t, form, to_data, hints)
    if built is None and isinstance(form, AssignForm):
        step.candidates = list(db.session.scalars(access.mediator_candidates(case.unit)))
        step.warnings = {u.id: services.conflict_warnings(case, u, user) for u in step.candidates}
        labels = [(u.id, f"{u.display_name}（{u.unit.name}）" + ("　⚠" if step.warnings[u.id] else ""))
                  for u in step.candidates]
        form.co_mediators.choices = labels
        # A village mediator managing its own unit's case takes the lead itself.
        form.lead_mediator.choices = labels if access.may_assign_others(user, case.unit) else [
            c for c in labels if c[0] == user.id]
        if fill and case.lead_mediator_id:
            form.lead_mediator.data = case.lead_mediator_id
            form.co_mediators.data = [u.id for u in case.co_mediators]
    return step


def data_of(step: Step) -> dict:
    """The workflow data of a validated step form."""
    form = step.form
    data = step.to_data(form) if step.to_data else {k: v for k, v in form.data.items() if k != "csrf_token"}
    if step.to_data is None and isinstance(form, AssignForm):
        by_id = {u.id: u for u in step.candidates}
        data["lead_mediator"] = by_id.get(form.lead_mediator.data)
        data["co_mediators"] = [by_id[i] for i in form.co_mediators.data if i in by_id]
    if isinstance(form, ConcludeForm):
        data["outcome"] = Outcome(form.outcome.data)
    return data


def take(case: Case, step: Step, user, *, version: str | None):
    """Take the step with the validated form's data; returns the timeline event.

    :raise services.StaleCase: ``version`` is not the case's version (None: not checked).
    :raise workflow.WorkflowError: a guard refused it (nothing changed)."""
    data = data_of(step)
    if version is not None and version != str(case.version):
        raise services.StaleCase(services.stale_message(case))
    return workflow.transition(case, step.transition.name, by=user, note=data.pop("note", "") or "", **data)
