"""The forms of the moving steps for the generic action page (``cases.views.act``):
for each transition, how to build its form for a case and read the workflow data
back from it. The rules stay in ``cases.workflow``."""
from flask_babel import gettext as _
from flask_login import current_user

from .. import access
from ..extensions import db
from ..i18n import fmt_date
from ..labels import ESCALATION_REASON_LABELS, REFERRAL_DESTINATION_LABELS
from ..timeutil import local_today
from . import services
from .forms import DelegateForm, ReceiveForm, ReferForm, ReferralResultForm, SendForm
from .models import EscalationReason, ReferralDestination, Urgency


def _unit_label(unit, base) -> str:
    return "　" * max(unit.tier.depth - base, 0) + unit.label


def _send_form(case, up: bool):
    form = SendForm()
    form.set_reasons(up)
    targets = services.escalation_targets(case) if up else services.hand_down_targets(case)
    base = case.unit.tier.depth + 1
    form.to_unit.choices = [(u.id, u.label if up else _unit_label(u, base)) for u in targets]
    hints = []
    if case.restricted:
        hints.append(_("This case is restricted: the coordinators of the unit you send it to (or, where it has none, "
                       "its mediators) will be named on it, so that they can see it and take it in."))
    if up:
        suggested = services.suggested_target(case)
        if suggested is not None:
            hints.append(_("The parties live in different places: %(unit)s covers them all.", unit=suggested.label))
        if not form.is_submitted():
            form.to_unit.data = (suggested or case.unit.parent).id
            advice = {a.reason for a in services.escalation_advice(case)}
            if suggested is not None:
                form.reason_code.data = EscalationReason.CROSS_AREA.value
            elif "risk" in advice:
                form.reason_code.data = EscalationReason.SAFETY.value
            elif "attempts" in advice:
                form.reason_code.data = EscalationReason.UNSETTLED.value
    return form, targets, hints


def _send_data(form, targets) -> dict:
    return {
        "to_unit": {u.id: u for u in targets}.get(form.to_unit.data),
        "reason_code": EscalationReason(form.reason_code.data) if form.reason_code.data else None,
        "reason_text": form.reason_text.data, "urgency": Urgency(form.urgency.data), "note": form.note.data,
    }


def build(case, name: str):
    """(form, to_data(form) -> dict, hints) for a moving step, or None for the others."""
    if name in ("escalate", "hand_down"):
        form, targets, hints = _send_form(case, up=name == "escalate")
        return form, lambda f: _send_data(f, targets), hints
    if name == "receive":
        form = ReceiveForm()
        transfer = case.pending_transfer
        unit = transfer.to_unit if transfer else case.unit
        candidates = list(db.session.scalars(access.mediator_candidates(unit)))
        labels = [(u.id, f"{u.display_name}（{u.unit.name}）") for u in candidates]
        needed = transfer is not None and transfer.from_status != "registered"
        form.lead_mediator.choices = labels if access.may_assign_others(current_user, unit) else [
            c for c in labels if c[0] == current_user.id]
        form.co_mediators.choices = labels
        hints = []
        if not needed:  # not yet accepted (受理): the unit accepts and assigns it in the usual steps
            del form.lead_mediator
            del form.co_mediators
            hints.append(_("The case has not been accepted (受理) yet: after taking it over, accept and assign it "
                           "as usual."))
        by_id = {u.id: u for u in candidates}

        def data(f):
            if not needed:
                return {"note": f.note.data}
            return {"lead_mediator": by_id.get(f.lead_mediator.data),
                    "co_mediators": [by_id[i] for i in f.co_mediators.data or [] if i in by_id],
                    "note": f.note.data}
        if transfer is not None:
            hints.append(_("From %(unit)s: %(reason)s.", unit=transfer.from_unit.label,
                           reason=_reason_text(transfer)))
            if transfer.note:
                hints.append(transfer.note)
        return form, data, hints
    if name == "refer":
        form = ReferForm()
        if not form.is_submitted():
            form.referred_on.data = local_today()

        def data(f):
            return {"destination": ReferralDestination(f.destination.data) if f.destination.data else None,
                    "destination_name": f.destination_name.data, "referred_on": f.referred_on.data,
                    "reference": f.reference.data, "note": f.note.data, "end_case": bool(f.end_case.data),
                    "told_other_routes": bool(f.told_other_routes.data)}
        return form, data, []
    if name == "referral_result":
        form = ReferralResultForm()
        referrals = services.open_referrals(case)
        form.referral.choices = [
            (r.id, f"{REFERRAL_DESTINATION_LABELS[r.destination]} {r.destination_name} · {fmt_date(r.referred_on)}")
            for r in referrals]
        by_id = {r.id: r for r in referrals}
        return form, lambda f: {"referral": by_id.get(f.referral.data), "outcome_text": f.outcome_text.data,
                                "outcome_on": f.outcome_on.data}, []
    if name == "delegate":
        form = DelegateForm()
        if not form.is_submitted():
            from datetime import timedelta

            form.due_date.data = local_today() + timedelta(days=7)
        units = services.delegation_units(case)
        form.to_unit.choices = [(u.id, u.label) for u in units]
        by_id = {u.id: u for u in units}
        return form, lambda f: {"to_unit": by_id.get(f.to_unit.data), "instruction": f.instruction.data,
                                "due_date": f.due_date.data}, []
    return None


def _reason_text(transfer) -> str:
    text = str(ESCALATION_REASON_LABELS[transfer.reason])
    return f"{text}（{transfer.reason_text}）" if transfer.reason_text else text
