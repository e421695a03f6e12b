"""The case lifecycle: every transition between the statuses (``models.CaseStatus``), in one table.

A transition names the statuses it leaves from, the status it leads to, who may
take it ("manager": a coordinator whose subtree holds the case, or a mediator of
a holding unit that has no coordinator of its own; "mediator": the case's lead or
co-mediators; "sender"/"receiver": the two ends of a pending transfer; see
``access.case_roles``), the data it needs and its guards.
``transition()`` refuses an illegal move with a ``WorkflowError`` and changes
nothing; a legal one updates the case and appends a ``CaseEvent``. Later features
(escalation, referral) add rows to ``TRANSITIONS``; nothing here needs rewriting.
This module never touches the request.

The rules are all here; the facts some of them need (screenings, diary entries, the
agreement, referrals) and the records some steps write (transfers, risk changes) belong
to features built on cases. Those features fill the slots below in their ``init_app``,
so this module imports none of them (see ``hooks``). After each step ``transitioned``
is sent (the inbox tells the people concerned).
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from blinker import Signal
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit
from ..access import case_roles
from ..errors import DomainError
from ..extensions import db
from ..hooks import Slot
from ..i18n import fmt_date
from ..labels import REFERRAL_DESTINATION_LABELS, STATUS_LABELS
from ..timeutil import local_today, utcnow
from .models import (  # noqa: F401  (the statuses live with the case; importers may take them from here)
    EDITABLE_STATUSES,
    OPEN_STATUSES,
    SETTLED,
    CaseEvent,
    CaseStatus,
    Outcome,
)


class WorkflowError(DomainError):
    """The transition is not allowed now; nothing was changed."""


# --- closed for good: the one rule for every service that writes to a case ------------------

def frozen_reason(case) -> str | None:
    """Why nothing may be written to the case now, or None. An archived case (归档) is
    closed for good; a closed case (结案) changes only through the steps of the table
    below that leave from it (reopen first, with a reason; archive; a referral's result)."""
    if case.status is CaseStatus.ARCHIVED:
        return _("This case is archived: it can no longer be changed.")
    if case.status is CaseStatus.CLOSED:
        return _("This case is closed: reopen it (with a reason) before changing it.")
    return None


def is_writable(case) -> bool:
    return frozen_reason(case) is None


def ensure_writable(case) -> None:
    """Called first by every service that writes to a case (diary, amendments, agreement,
    judicial confirmation, screenings, safety plans, uploads, edits and parties).

    :raise WorkflowError: the case is archived or closed; nothing was changed.
    """
    message = frozen_reason(case)
    if message:
        raise WorkflowError(message)


# A guard returns what is wrong, or (the form field it is about, what is wrong), or None.
Guard = Callable[["object", dict], str | tuple[str, str] | None]


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    source: frozenset[CaseStatus]
    target: CaseStatus | None  # None: the status stays (e.g. reassign)
    who: frozenset[str]  # "manager", "mediator"
    needs: tuple[str, ...] = ()  # form fields the transition asks for
    # Guards on the case alone: when one fails the action is shown disabled, with why.
    state_guards: tuple[Guard, ...] = ()
    # Guards on what the user enters in the action's form.
    guards: tuple[Guard, ...] = ()
    confirm: str | None = None  # irreversible: the UI asks first, saying this
    style: str = "primary"
    effect: Callable | None = field(default=None, compare=False)
    # Shown on the case page only while this returns True (e.g. hand down needs units below).
    offered: Callable | None = field(default=None, compare=False)


# --- what the features built on cases provide (filled by their init_app) ----------

# screening
latest_screenings = Slot("latest_screenings", "{party id: latest screening} of the case")
screened_at_closure = Slot("screened_at_closure", "ids of the parties screened on closing the case")
safety_arranged = Slot("safety_arranged", "a safety plan and a safety referral are recorded (orange risk)")
raise_risk = Slot("raise_risk", "effect: record the higher risk level")
lower_risk = Slot("lower_risk", "effect: record the lower risk level")
# diary
entry_count = Slot("entry_count", "how many diary entries the case has")
has_follow_up_visit = Slot("has_follow_up_visit", "a follow-up visit is recorded in the diary")
# agreements
agreement_of = Slot("agreement_of", "the case's agreement, or None")
# transfers: the records behind escalation, hand-down, referral and delegation
open_referrals = Slot("open_referrals", "the case's referrals still waiting for their result")
open_delegations = Slot("open_delegations", "the case's delegated visits not yet recorded")
delegation_units = Slot("delegation_units", "units a follow-up visit can be given to")
send = Slot("send", "effect: record a hand-over up (up=True) or down")
receive = Slot("receive", "effect: the receiving unit takes the case")
give_back = Slot("give_back", "effect: a return (returned=True) or a withdrawal")
refer = Slot("refer", "effect: record a referral out")
record_referral_result = Slot("record_referral_result", "effect: record a referral's result")
delegate = Slot("delegate", "effect: record a delegated follow-up visit")

# Sent after every step, with its timeline row: transitioned.send(case, name=..., event_row=..., by=...).
transitioned = Signal("case transitioned")


# --- guards (return a message when the move is not allowed) --------------------

def _needs_consent(case, _data):
    if not case.consent_to_mediate:
        return _("Both sides must agree to mediation before the case is accepted (PML art. 17).")
    return None


def _needs_reason(_case, data):
    if not (data.get("reason") or "").strip():
        return "reason", _("Please give a reason.")
    return None


def _needs_mediator(_case, data):
    if data.get("lead_mediator") is None:
        return "lead_mediator", _("Choose the lead mediator.")
    return None


def _needs_rights_notice(case, _data):
    if case.rights_notice_date is None:
        return _("Record the date the notice of rights and duties was given before mediation starts.")
    return None


def _needs_outcome(case, data):
    outcome = data.get("outcome")
    if outcome is None:
        return _("Choose the outcome.")
    if case.risk_level.value == "red" and outcome is not Outcome.TERMINATED:
        return _("At red risk mediation is suspended: the case can only be referred or ended for safety.")
    if case.risk_level.value == "orange" and outcome in SETTLED and not safety_arranged(case):
        return _("At orange risk a case is settled only after a safety plan and a referral (women's federation, "
                 "legal aid or social work) are recorded.")
    if outcome in SETTLED:
        agreement = agreement_of(case)
        if agreement is None or not agreement.terms:
            return _("Record the agreement (its terms) before concluding the case as settled.")
    if outcome not in SETTLED and not data.get("told_other_routes"):
        return _("Confirm that the parties were told of their other routes (arbitration, "
                 "administrative channels, the courts; PML art. 26).")
    return None


def _parties_screened(case, _data):
    screened = latest_screenings(case)
    if any(p.id not in screened for p in case.parties if p.role.value in ("applicant", "respondent")):
        return _("Screen each party alone for safety (applicant and respondent) before mediation starts.")
    return None


def _not_red(case, _data):
    if case.risk_level.value == "red":
        return _("At red risk mediation is suspended: refer the case (police, court, shelter) or end it for "
                 "safety.")
    return None


def _closure_screened(case, _data):
    if case.risk_level.value == "none":
        return None
    done = screened_at_closure(case)
    if any(p.id not in done for p in case.parties if p.role.value in ("applicant", "respondent")):
        return _("Screen the parties again before closing a case with a risk level.")
    return None


def _raise_risk(case, data, by):
    return raise_risk(case, data["risk_level"], by=by, reason=data.get("reason") or "")


def _lower_risk(case, data, by):
    return lower_risk(case, data["risk_level"], by=by, reason=data.get("reason") or "")


def _restrict(case, data, by):
    """Name who may see the case: the chosen users, its mediators and whoever restricts it
    (the visibility rule is ``access.cases_query``; opening one asks why: ``restricted``)."""
    people = {u.id: u for u in [*data.get("named_users", []), by, *([case.lead_mediator] if case.lead_mediator
                                                                    else []), *case.co_mediators]}
    # Someone who may lift it has to see it: else the case leaves its supervisors' sight for good.
    if not any(u.active and "supervisor" in case_roles(u, case) for u in people.values()):
        raise WorkflowError(_("Name at least one coordinator or administrator over the case's unit: only they "
                              "can lift the restriction."), field="named_users")
    case.named_users = sorted(people.values(), key=lambda u: u.id)
    case.restricted = True
    return {"named_users": [u.display_name for u in case.named_users]}


def name_on_restricted(case, users) -> list[str]:
    """On a restricted case, whoever is given work on it (its mediators, the people who take it
    in) is named on it: else they could not see what they were given. The names added."""
    if not case.restricted:
        return []
    named = {u.id for u in case.named_users}
    added = list({u.id: u for u in users if u is not None and u.id not in named}.values())
    if added:
        case.named_users = sorted([*case.named_users, *added], key=lambda u: u.id)
    return [u.display_name for u in added]


def _unrestrict(case, _data, _by):
    case.restricted = False
    case.named_users = []
    return {}


def _not_restricted(case):
    return not case.restricted


def _is_restricted(case):
    return case.restricted


def _is_red(case):
    return case.risk_level.value == "red"


def _needs_told(_case, data):
    if not data.get("told_other_routes"):
        return _("Confirm that the parties were told of their other routes (arbitration, "
                 "administrative channels, the courts; PML art. 26).")
    return None


def _end_for_safety(case, data, _by):
    case.outcome = Outcome.TERMINATED
    case.concluded_at = utcnow()
    return {"outcome": [None, Outcome.TERMINATED.value]}


def _has_risk(case):
    return case.risk_level.value != "none"


def _below_red(case):
    return case.risk_level.value != "red"


def _settled_needs_follow_up(case, _data):
    if case.status is CaseStatus.CONCLUDED and case.outcome in SETTLED:
        return _("A settled case is followed up before it is closed.")
    return None


def _needs_diary(case, _data):
    if not entry_count(case):
        return _("Record at least one diary entry before closing the case.")
    return None


def _follow_up_visited(case, _data):
    if case.status is CaseStatus.FOLLOW_UP and not has_follow_up_visit(case):
        return _("Record at least one follow-up visit before closing.")
    return None


def _open_delegations_named(case) -> list[str]:
    return [_("the visit delegated to %(unit)s (due %(date)s)", unit=d.unit.label, date=fmt_date(d.due_date))
            for d in open_delegations(case)]


def _no_open_visit(case, _data):
    """A delegated visit is recorded in the diary, which a closed case no longer takes."""
    named = _open_delegations_named(case)
    if named:
        return _("Still open: %(what)s. It is recorded first.", what="；".join(named))
    return None


def _nothing_open(case, _data):
    """An archived case is closed for good: nothing may still be waiting on it."""
    named = [_("the referral to %(to)s of %(date)s, awaiting its result",
               to=r.destination_name or REFERRAL_DESTINATION_LABELS[r.destination], date=fmt_date(r.referred_on))
             for r in open_referrals(case)] + _open_delegations_named(case)
    if named:
        return _("The case cannot be archived while something is open: %(what)s.", what="；".join(named))
    return None


def _settled_only(case, _data):
    if case.outcome not in SETTLED:
        return _("Only a settled case is followed up; close it instead.")
    return None


# --- effects --------------------------------------------------------------------

def _accept(case, _data, _by):
    case.accepted_at = utcnow()
    days = current_app.config["MEDIATION_TIME_LIMIT_DAYS"]
    case.due_date = local_today() + timedelta(days=days)
    return {"due_date": case.due_date.isoformat()}


def _decline(case, data, _by):
    case.decline_reason = data["reason"].strip()
    return {}


def _assign(case, data, _by):
    old_lead = case.lead_mediator.display_name if case.lead_mediator else None
    old_co = [u.display_name for u in case.co_mediators]
    case.lead_mediator = data["lead_mediator"]
    case.co_mediators = [u for u in data.get("co_mediators", []) if u.id != data["lead_mediator"].id]
    details = {
        "lead_mediator": [old_lead, case.lead_mediator.display_name],
        "co_mediators": [old_co, [u.display_name for u in case.co_mediators]],
    }
    if named := name_on_restricted(case, [case.lead_mediator, *case.co_mediators]):
        details["named_users"] = named
    return details


def _conclude(case, data, _by):
    case.outcome = data["outcome"]
    case.concluded_at = utcnow()
    return {"outcome": [None, case.outcome.value]}


def _close(case, _data, _by):
    case.closed_at = utcnow()
    return {}


def _reopen(case, _data, _by):
    old = case.outcome.value if case.outcome else None
    case.outcome = None
    case.closed_at = None
    case.concluded_at = None
    # Mediation starts again, and with it its time limit: the old one ran out long ago, and the
    # case came back overdue on the day it was reopened (QA).
    old_due = case.due_date.isoformat() if case.due_date else None
    case.due_date = local_today() + timedelta(days=current_app.config["MEDIATION_TIME_LIMIT_DAYS"])
    return {"outcome": [old, None], "due_date": [old_due, case.due_date.isoformat()]}


def _archive(case, _data, _by):
    case.archived_at = utcnow()
    return {}


# --- moving the case: escalation, hand-down, referral, delegation ----------------------
# The records live in ``transfers``; the rules are here.

def _has_parent(case):
    """A unit above the holder in its district (a station escalates to nobody)."""
    return case.unit.parent is not None and case.unit.parent.tier.holds_cases


def _has_children(case):
    return case.unit.tier.child is not None and any(u.active for u in case.unit.children)


def _needs_transfer_reason(_case, data):
    reason = data.get("reason_code")  # a transfers.models.EscalationReason
    if reason is None:
        return _("Choose the reason.")
    if reason.value == "other" and not (data.get("reason_text") or "").strip():
        return _("Say what the other reason is.")
    return None


def _needs_unit_above(case, data):
    unit = data.get("to_unit")
    if (unit is None or not unit.active or unit.id == case.unit_id or not unit.contains(case.unit)
            or not unit.tier.holds_cases):
        return _("Choose a unit above the one holding the case.")
    return None


def _needs_unit_below(case, data):
    unit = data.get("to_unit")
    if unit is None or not unit.active or unit.id == case.unit_id or not case.unit.contains(unit):
        return _("Choose a unit below the one holding the case.")
    return None


def _receiver_assigns(case, data):
    """Taking over a case under way names who mediates it now."""
    pending = case.pending_transfer
    if pending is not None and pending.from_status != CaseStatus.REGISTERED.value and data.get("lead_mediator") is None:
        return _("Choose the lead mediator.")
    return None


def _needs_return_reason(_case, data):
    if not (data.get("reason") or "").strip():
        return _("Say why the case is returned.")
    return None


def _needs_referral(case, data):
    if data.get("destination") is None:
        return _("Choose where the case is referred to.")
    if data.get("referred_on") is None:
        return _("Give the date of the referral.")
    if data["referred_on"] > local_today():
        return _("The date is in the future.")
    if data["referred_on"] < case.intake_date:
        return "referred_on", _("The date is before the case was registered.")
    if data.get("end_case") and case.status not in OPEN_STATUSES:
        return _("Only a case under mediation can be ended with a referral.")
    if data.get("end_case") and not data.get("told_other_routes"):
        return _("Confirm that the parties were told of their other routes (arbitration, "
                 "administrative channels, the courts; PML art. 26).")
    return None


def _has_open_referral(case):
    return bool(open_referrals(case))


def _needs_referral_result(case, data):
    referral = data.get("referral")
    if referral is None or referral.case_id != case.id or not referral.is_open:
        return "referral", _("Choose the referral whose result you record.")
    if not (data.get("outcome_text") or "").strip():
        return "outcome_text", _("Record the result.")
    if data.get("outcome_on") is None:
        return "outcome_on", _("Give the date of the result.")
    if data["outcome_on"] > local_today() or data["outcome_on"] < referral.referred_on:
        return "outcome_on", _("The date must lie between the referral and today.")
    return None


def _needs_delegation(case, data):
    unit = data.get("to_unit")
    if unit is None or unit.id not in {u.id for u in delegation_units(case)}:
        return "to_unit", _("Choose a unit the case came from, or one below the holder.")
    if not (data.get("instruction") or "").strip():
        return "instruction", _("Say what the visit is for.")
    if data.get("due_date") is None or data["due_date"] < local_today():
        return "due_date", _("Give a due date from today on.")
    today = local_today()
    if data["due_date"] > (today.replace(year=today.year + 1) if (today.month, today.day) != (2, 29)
                           else today.replace(year=today.year + 1, day=28)):
        return "due_date", _("Give a due date within a year.")
    return None


def _delegation_possible(case):
    return bool(delegation_units(case))


def _escalate(case, data, by):
    return send(case, data, by, up=True)


def _hand_down(case, data, by):
    return send(case, data, by, up=False)


def _receive(case, data, by):
    return receive(case, data, by)


def _return(case, data, by):
    return give_back(case, data, by, returned=True)


def _withdraw(case, data, by):
    return give_back(case, data, by, returned=False)


def _refer(case, data, by):
    details = refer(case, data, by)
    if data.get("end_case"):
        case.status = CaseStatus.CONCLUDED
        case.outcome = Outcome.TERMINATED
        case.concluded_at = utcnow()
        details["outcome"] = [None, Outcome.TERMINATED.value]
    return details


def _referral_result(case, data, by):
    return record_referral_result(case, data, by)


def _delegate(case, data, by):
    return delegate(case, data, by)


S = CaseStatus
_SENDABLE_UP = frozenset({S.REGISTERED, S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION})
_SENDABLE_DOWN = frozenset({S.REGISTERED, S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION, S.CONCLUDED, S.FOLLOW_UP})
_REFERABLE = frozenset({S.REGISTERED, S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION, S.CONCLUDED, S.FOLLOW_UP})
_T = [
    Transition("accept", _l("Accept"), frozenset({S.REGISTERED}), S.ACCEPTED, frozenset({"manager"}),
               state_guards=(_needs_consent,), effect=_accept),
    Transition("decline", _l("Decline"), frozenset({S.REGISTERED}), S.DECLINED, frozenset({"manager"}),
               needs=("reason",), guards=(_needs_reason,), effect=_decline, style="outline-danger",
               confirm=_l("Decline this case? The parties are told it will not be mediated.")),
    Transition("assign", _l("Assign"), frozenset({S.ACCEPTED}), S.ASSIGNED, frozenset({"manager"}),
               needs=("lead_mediator", "co_mediators"), guards=(_needs_mediator,), effect=_assign),
    Transition("reassign", _l("Reassign"), frozenset({S.ASSIGNED, S.IN_MEDIATION, S.CONCLUDED, S.FOLLOW_UP}),
               None, frozenset({"manager"}), needs=("lead_mediator", "co_mediators", "reason"),
               guards=(_needs_mediator, _needs_reason), effect=_assign, style="outline-secondary"),
    Transition("start", _l("Start mediation"), frozenset({S.ASSIGNED}), S.IN_MEDIATION,
               frozenset({"mediator", "manager"}), state_guards=(_needs_rights_notice, _parties_screened, _not_red)),
    Transition("conclude", _l("Conclude mediation"), frozenset({S.IN_MEDIATION}), S.CONCLUDED,
               frozenset({"mediator", "manager"}), needs=("outcome", "told_other_routes"),
               guards=(_needs_outcome,), effect=_conclude),
    Transition("follow_up", _l("Start follow-up"), frozenset({S.CONCLUDED}), S.FOLLOW_UP,
               frozenset({"mediator", "manager"}), state_guards=(_settled_only,)),
    Transition("close", _l("Close"), frozenset({S.CONCLUDED, S.FOLLOW_UP}), S.CLOSED,
               frozenset({"mediator", "manager"}),
               state_guards=(_needs_diary, _settled_needs_follow_up, _follow_up_visited, _closure_screened,
                             _no_open_visit),
               effect=_close,
               confirm=_l("Close this case? It can be reopened later with a reason.")),
    Transition("reopen", _l("Reopen"), frozenset({S.CONCLUDED, S.FOLLOW_UP, S.CLOSED}), S.IN_MEDIATION,
               frozenset({"manager"}),
               needs=("reason",), guards=(_needs_reason,), effect=_reopen, style="outline-secondary"),
    Transition("archive", _l("Archive"), frozenset({S.CLOSED, S.DECLINED}), S.ARCHIVED, frozenset({"manager"}),
               state_guards=(_nothing_open,), effect=_archive, style="outline-secondary",
               confirm=_l("Archive this case? An archived case can no longer be changed.")),
    # Escalation (上报) and hand-down (下派): the case waits at the receiving unit (待接收).
    Transition("escalate", _l("Escalate"), _SENDABLE_UP, S.PENDING, frozenset({"manager", "mediator"}),
               needs=("to_unit", "reason_code", "reason_text", "urgency", "note"),
               guards=(_needs_unit_above, _needs_transfer_reason), effect=_escalate, offered=_has_parent,
               style="outline-primary"),
    Transition("hand_down", _l("Hand down"), _SENDABLE_DOWN, S.PENDING, frozenset({"manager"}),
               needs=("to_unit", "reason_code", "reason_text", "urgency", "note"),
               guards=(_needs_unit_below, _needs_transfer_reason), effect=_hand_down, offered=_has_children,
               style="outline-secondary"),
    # The receiving unit takes the case (the status before sending comes back, with its mediators)...
    Transition("receive", _l("Accept the case"), frozenset({S.PENDING}), None, frozenset({"receiver"}),
               needs=("lead_mediator", "co_mediators", "note"), guards=(_receiver_assigns,), effect=_receive),
    # ...or sends it back with a reason; the sender may withdraw it while it waits.
    Transition("return", _l("Return"), frozenset({S.PENDING}), None, frozenset({"receiver"}),
               needs=("reason",), guards=(_needs_return_reason,), effect=_return, style="outline-danger"),
    Transition("withdraw", _l("Withdraw"), frozenset({S.PENDING}), None, frozenset({"sender"}),
               effect=_withdraw, style="outline-secondary",
               confirm=_l("Withdraw the case? It comes back to your unit.")),
    # Referral out (移送/转介): the case stays open unless the user ends it with the referral.
    Transition("refer", _l("Refer out"), _REFERABLE, None, frozenset({"manager", "mediator"}),
               needs=("destination", "destination_name", "referred_on", "reference", "note", "end_case"),
               guards=(_needs_referral,), effect=_refer, style="outline-secondary"),
    Transition("referral_result", _l("Record a referral's result"), _REFERABLE | {S.CLOSED}, None,
               frozenset({"manager", "mediator"}), needs=("referral", "outcome_text", "outcome_on"),
               guards=(_needs_referral_result,), effect=_referral_result, offered=_has_open_referral,
               style="outline-secondary"),
    # A red case ends for safety from acceptance on (mediation never started, or suspended).
    Transition("end_for_safety", _l("End for safety"), frozenset({S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION}),
               S.CONCLUDED, frozenset({"manager", "mediator"}), needs=("reason", "told_other_routes"),
               guards=(_needs_reason, _needs_told), effect=_end_for_safety, offered=_is_red, style="outline-danger",
               confirm=_l("End the mediation for safety? The parties are told of their other routes.")),
    # The risk level: raised by anyone working the case; lowered only by a coordinator, with a reason.
    Transition("raise_risk", _l("Raise the risk level"), _REFERABLE | {S.PENDING}, None,
               frozenset({"manager", "mediator"}), needs=("risk_level", "reason"), effect=_raise_risk,
               offered=_below_red, style="outline-danger"),
    Transition("lower_risk", _l("Lower the risk level"), _REFERABLE | {S.PENDING}, None, frozenset({"supervisor"}),
               needs=("risk_level", "reason"), guards=(_needs_reason,), effect=_lower_risk, offered=_has_risk,
               style="outline-secondary"),
    # Restricted access (限制访问): named users only; opening asks for a reason (cases/restricted.py).
    Transition("restrict", _l("Restrict access"), _REFERABLE | {S.PENDING, S.CLOSED, S.DECLINED}, None,
               frozenset({"supervisor", "mediator"}), needs=("named_users", "reason"), guards=(_needs_reason,),
               effect=_restrict, offered=_not_restricted, style="outline-secondary"),
    Transition("unrestrict", _l("Lift the restriction"), _REFERABLE | {S.PENDING, S.CLOSED, S.DECLINED}, None,
               frozenset({"supervisor"}), needs=("reason",), guards=(_needs_reason,), effect=_unrestrict,
               offered=_is_restricted, style="outline-secondary"),
    # A follow-up visit given to a unit the case came from.
    Transition("delegate", _l("Delegate a visit"), frozenset({S.ASSIGNED, S.IN_MEDIATION, S.CONCLUDED, S.FOLLOW_UP}),
               None, frozenset({"manager", "mediator"}), needs=("to_unit", "instruction", "due_date"),
               guards=(_needs_delegation,), effect=_delegate, offered=_delegation_possible,
               style="outline-secondary"),
]
TRANSITIONS: dict[str, Transition] = {t.name: t for t in _T}
del S, _T


def allowed(case, user) -> list[Transition]:
    """The transitions this user may take on this case now (guards not yet run:
    they depend on the data the user enters)."""
    roles = case_roles(user, case)
    return [t for t in TRANSITIONS.values()
            if case.status in t.source and roles & t.who and (t.offered is None or t.offered(case))]


def blocked_reason(case, t: Transition) -> str | None:
    """Why ``t`` cannot be taken on this case as it stands (before any form data)."""
    for guard in t.state_guards:
        message = guard(case, {})
        if message:
            return message
    return None


def transition(case, name: str, *, by, note: str = "", **data):
    """Take transition ``name``; append and return the ``CaseEvent``.

    :raise WorkflowError: unknown or illegal move, user not allowed, or a guard failed.
    """
    t = TRANSITIONS.get(name)
    if t is None:
        raise WorkflowError(_("Unknown action."))
    data.setdefault("note", note)  # the effects keep it on their records too (transfer, referral)
    if case.status not in t.source:
        raise WorkflowError(_("This action is not possible while the case is %(status)s.",
                              status=status_label(case.status)))
    if not case_roles(by, case) & t.who:
        raise WorkflowError(_("You may not do this on this case."))
    if t.offered is not None and not t.offered(case):
        raise WorkflowError(_("This action is not possible for this case."))
    for guard in (*t.state_guards, *t.guards):
        message = guard(case, data)
        if message:
            field, message = message if isinstance(message, tuple) else (None, message)
            raise WorkflowError(message, field=field)
    before = case.status
    # An effect may set the status itself when ``target`` is None (a return restores the earlier one).
    details = t.effect(case, data, by) if t.effect else {}
    if t.target is not None:
        case.status = t.target
    case.updated_at = utcnow()
    case.updated_by = by
    note = (note or data.get("reason") or "").strip()
    event = CaseEvent(case=case, actor=by, kind=t.name, from_status=before, to_status=case.status,
                      note=note, changes=details or {})
    db.session.add(event)
    db.session.flush()
    transitioned.send(case, name=t.name, event_row=event, by=by)
    audit.record("case.transition", target=case, actor=by, details={
        "transition": t.name, "from": before.value, "to": case.status.value, "number": case.number})
    return event


def status_label(status: CaseStatus) -> str:
    return str(STATUS_LABELS[status])
