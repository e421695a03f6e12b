"""The case lifecycle: statuses, outcomes and every transition, in one table.

A transition names the statuses it leaves from, the status it leads to, who may
take it ("manager": a coordinator whose subtree holds the case, or a mediator of
a holding unit that has no coordinator of its own; "mediator": the case's lead or
co-mediators; see ``access.case_roles``), the data it needs and its guards.
``transition()`` refuses an illegal move with a ``WorkflowError`` and changes
nothing; a legal one updates the case and appends a ``CaseEvent``. Later features
(escalation, referral) add rows to ``TRANSITIONS``; nothing here needs rewriting.
This module never touches the request.
"""
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..extensions import db
from ..timeutil import local_today, utcnow


class CaseStatus(enum.Enum):
    REGISTERED = "registered"  # 登记
    ACCEPTED = "accepted"  # 受理
    DECLINED = "declined"  # 不予受理
    ASSIGNED = "assigned"  # 已指派
    IN_MEDIATION = "in_mediation"  # 调解中
    CONCLUDED = "concluded"  # 调解结束 (see the outcome)
    FOLLOW_UP = "follow_up"  # 回访
    CLOSED = "closed"  # 结案
    ARCHIVED = "archived"  # 归档


class Outcome(enum.Enum):
    SUCCESS = "success"  # 调解成功
    PARTIAL = "partial"  # 部分成功
    FAILED = "failed"  # 调解不成
    TERMINATED = "terminated"  # 调解终止


# Statuses in which the mediation clock runs (overdue is counted only here).
OPEN_STATUSES = frozenset({CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION})
# Statuses in which the case record itself may still be edited.
EDITABLE_STATUSES = frozenset({
    CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION,
    CaseStatus.CONCLUDED, CaseStatus.FOLLOW_UP,
})
SETTLED = frozenset({Outcome.SUCCESS, Outcome.PARTIAL})


class WorkflowError(DomainError):
    """The transition is not allowed now; nothing was changed."""


Guard = Callable[["object", dict], str | None]


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


# --- guards (return a message when the move is not allowed) --------------------

def _needs_consent(case, _data):
    if not case.consent_to_mediate:
        return _("Both sides must agree to mediation before the case is accepted (PML art. 17).")
    return None


def _needs_reason(_case, data):
    if not (data.get("reason") or "").strip():
        return _("Please give a reason.")
    return None


def _needs_mediator(_case, data):
    if data.get("lead_mediator") is None:
        return _("Choose the lead mediator.")
    return None


def _needs_rights_notice(case, _data):
    if case.rights_notice_date is None:
        return _("Record the date the notice of rights and duties was given before mediation starts.")
    return None


def _needs_outcome(case, data):
    outcome = data.get("outcome")
    if outcome is None:
        return _("Choose the outcome.")
    if outcome in SETTLED:
        from ..agreements.services import agreement_of

        agreement = agreement_of(case)
        if agreement is None or not agreement.terms:
            return _("Record the agreement (its terms) before concluding the case as settled.")
    if outcome not in SETTLED and not data.get("told_other_routes"):
        return _("Confirm that the parties were told of their other routes (arbitration, "
                 "administrative channels, the courts; PML art. 26).")
    return None


def _settled_needs_follow_up(case, _data):
    if case.status is CaseStatus.CONCLUDED and case.outcome in SETTLED:
        return _("A settled case is followed up before it is closed.")
    return None


def _needs_diary(case, _data):
    from ..diary.services import entry_count

    if not entry_count(case):
        return _("Record at least one diary entry before closing the case.")
    return None


def _follow_up_visited(case, _data):
    from ..diary.models import DiaryEntry, EntryKind

    if case.status is CaseStatus.FOLLOW_UP and not db.session.scalar(
        db.select(DiaryEntry.id).where(DiaryEntry.case_id == case.id, DiaryEntry.kind == EntryKind.FOLLOW_UP).limit(1)
    ):
        return _("Record at least one follow-up visit before closing.")
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
    return {
        "lead_mediator": [old_lead, case.lead_mediator.display_name],
        "co_mediators": [old_co, [u.display_name for u in case.co_mediators]],
    }


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
    return {"outcome": [old, None]}


def _archive(case, _data, _by):
    case.archived_at = utcnow()
    return {}


S = CaseStatus
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
               frozenset({"mediator", "manager"}), state_guards=(_needs_rights_notice,)),
    Transition("conclude", _l("Conclude mediation"), frozenset({S.IN_MEDIATION}), S.CONCLUDED,
               frozenset({"mediator", "manager"}), needs=("outcome", "told_other_routes"),
               guards=(_needs_outcome,), effect=_conclude),
    Transition("follow_up", _l("Start follow-up"), frozenset({S.CONCLUDED}), S.FOLLOW_UP,
               frozenset({"mediator", "manager"}), state_guards=(_settled_only,)),
    Transition("close", _l("Close"), frozenset({S.CONCLUDED, S.FOLLOW_UP}), S.CLOSED,
               frozenset({"mediator", "manager"}),
               state_guards=(_needs_diary, _settled_needs_follow_up, _follow_up_visited),
               effect=_close,
               confirm=_l("Close this case? It can be reopened later with a reason.")),
    Transition("reopen", _l("Reopen"), frozenset({S.FOLLOW_UP, S.CLOSED}), S.IN_MEDIATION, frozenset({"manager"}),
               needs=("reason",), guards=(_needs_reason,), effect=_reopen, style="outline-secondary"),
    Transition("archive", _l("Archive"), frozenset({S.CLOSED, S.DECLINED}), S.ARCHIVED, frozenset({"manager"}),
               effect=_archive, style="outline-secondary",
               confirm=_l("Archive this case? An archived case can no longer be changed.")),
]
TRANSITIONS: dict[str, Transition] = {t.name: t for t in _T}
del S, _T


def allowed(case, user) -> list[Transition]:
    """The transitions this user may take on this case now (guards not yet run:
    they depend on the data the user enters)."""
    from ..access import case_roles

    roles = case_roles(user, case)
    return [t for t in TRANSITIONS.values() if case.status in t.source and roles & t.who]


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
    from ..access import case_roles
    from .models import CaseEvent

    t = TRANSITIONS.get(name)
    if t is None:
        raise WorkflowError(_("Unknown action."))
    if case.status not in t.source:
        raise WorkflowError(_("This action is not possible while the case is %(status)s.",
                              status=status_label(case.status)))
    if not case_roles(by, case) & t.who:
        raise WorkflowError(_("You may not do this on this case."))
    for guard in (*t.state_guards, *t.guards):
        message = guard(case, data)
        if message:
            raise WorkflowError(message)
    before = case.status
    details = t.effect(case, data, by) if t.effect else {}
    if t.target is not None:
        case.status = t.target
    case.updated_at = utcnow()
    case.updated_by = by
    note = (note or data.get("reason") or "").strip()
    event = CaseEvent(case=case, actor=by, kind=t.name, from_status=before, to_status=case.status,
                      note=note, changes=details or {})
    db.session.add(event)
    return event


def status_label(status: CaseStatus) -> str:
    from ..labels import STATUS_LABELS

    return str(STATUS_LABELS[status])
