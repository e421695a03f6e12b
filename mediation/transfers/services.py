"""The records behind escalation, hand-down, referral and delegation, and the
advice the case page and the inbox give (suggested unit, attempts per tier).
Called from the effects in ``cases.workflow``, which hold the rules: ``init_app``
gives the workflow these functions. Services flush."""
from dataclasses import dataclass

from blinker import Signal
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from .. import access
from ..access import is_manager_of, open_delegations_for
from ..agreements.services import agreement_of
from ..cases import workflow
from ..cases.models import OPEN_STATUSES, CaseEvent, CaseStatus, RiskLevel
from ..cases.workflow import WorkflowError
from ..diary import services as diary
from ..diary.models import DiaryEntry, EntryKind
from ..errors import DomainError
from ..extensions import db
from ..memo import per_request
from ..org.models import OrgUnit, Tier
from ..org.services import tree_order
from ..retention.services import PLACEHOLDER, anonymiser
from ..timeutil import utcnow
from ..users.models import User
from .models import (
    CaseHolding,
    Delegation,
    DelegationStatus,
    Referral,
    Transfer,
    TransferKind,
    TransferStatus,
    Urgency,
)

# --- transfers -----------------------------------------------------------------------

def send(case, data: dict, by, *, up: bool) -> dict:
    """Record the hand-over; the workflow sets the case to pending."""
    transfer = Transfer(
        case_id=case.id, kind=TransferKind.ESCALATE if up else TransferKind.HAND_DOWN,
        from_unit_id=case.unit_id, to_unit=data["to_unit"], from_status=case.status.value,
        reason=data["reason_code"], reason_text=(data.get("reason_text") or "").strip(),
        urgency=data.get("urgency") or Urgency.NORMAL, note=(data.get("note") or "").strip(), created_by=by,
    )
    # Those who take it in must see it: named on it, or it would wait where nobody can accept it.
    # Who this transfer named ("named_ids", not shown): a return or withdrawal names them off again.
    named = _name_receivers(case, data["to_unit"])
    db.session.add(transfer)
    db.session.flush()
    return {"transfer": transfer.id, "to_unit": data["to_unit"].label, "reason": transfer.reason.value,
            "urgency": transfer.urgency.value, **named}


def _name_receivers(case, unit: OrgUnit) -> dict:
    """On a restricted case, name the people of ``unit`` who take it in (``access.receivers_at``):
    the timeline's details ("named_users", and "named_ids" of those not named before).

    :raise WorkflowError: nobody there could."""
    if not case.restricted:
        return {}
    receivers = db.session.scalars(access.receivers_at(unit)).all()
    if not receivers:
        raise WorkflowError(_("Nobody at %(unit)s can take in a restricted case: it has no active coordinator "
                              "or mediator.", unit=unit.label), field="to_unit")
    known = {u.id for u in case.named_users}
    named = workflow.name_on_restricted(case, receivers)
    return {"named_users": named, "named_ids": [u.id for u in receivers if u.id not in known]} if named else {}


def _claim(case, by, status: TransferStatus, note: str = "") -> Transfer:
    """Decide the pending transfer exactly once: of two people deciding at the same
    moment, the second finds it no longer pending and changes nothing."""
    transfer = case.pending_transfer
    if transfer is None:
        raise WorkflowError(_("Nothing is waiting to be accepted for this case."))
    result = db.session.execute(
        update(Transfer).where(Transfer.id == transfer.id, Transfer.status == TransferStatus.PENDING)
        .values(status=status, decided_by_id=by.id, decided_at=utcnow(), decision_note=note)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise WorkflowError(_("Someone else has already decided on this case."))
    db.session.refresh(transfer)
    return transfer


def _restore(case, transfer: Transfer):
    case.status = CaseStatus(transfer.from_status)


def receive(case, data: dict, by) -> dict:
    """The receiving unit becomes the holder; the case goes on where it was, with
    the mediators the receiver names."""
    transfer = _claim(case, by, TransferStatus.ACCEPTED, (data.get("note") or "").strip())
    now = utcnow()
    current = db.session.scalar(select(CaseHolding).where(CaseHolding.case_id == case.id,
                                                          CaseHolding.until.is_(None)))
    if current is None:  # the first move: the registering unit's period starts the history
        db.session.add(CaseHolding(case_id=case.id, unit_id=transfer.from_unit_id, since=case.created_at, until=now))
    else:
        current.until = now
    db.session.add(CaseHolding(case_id=case.id, unit_id=transfer.to_unit_id, since=now, transfer_id=transfer.id))
    old_unit = case.unit.label
    old_lead = case.lead_mediator.display_name if case.lead_mediator else None
    case.unit = transfer.to_unit
    _restore(case, transfer)
    details = {"transfer": transfer.id, "unit": [old_unit, transfer.to_unit.label]}
    lead = data.get("lead_mediator")
    if lead is not None:
        case.lead_mediator = lead
        case.co_mediators = [u for u in data.get("co_mediators", []) if u.id != lead.id]
        details["lead_mediator"] = [old_lead, lead.display_name]
        details["co_mediators"] = [None, [u.display_name for u in case.co_mediators]]
        if named := workflow.name_on_restricted(case, [lead, *case.co_mediators]):
            details["named_users"] = named
        if case.status is CaseStatus.ACCEPTED:
            case.status = CaseStatus.ASSIGNED
    elif case.status is not CaseStatus.REGISTERED:
        case.lead_mediator = None
        case.co_mediators = []
    db.session.flush()
    return details


def give_back(case, data: dict, by, *, returned: bool) -> dict:
    """A return (by the receiver, with its reason) or a withdrawal (by the sender)."""
    reason = (data.get("reason") or "").strip()
    transfer = _claim(case, by, TransferStatus.RETURNED if returned else TransferStatus.WITHDRAWN, reason)
    _restore(case, transfer)
    details = {"transfer": transfer.id}
    if case.restricted:
        # The receivers named by the sending had it only to take it in: the case is not theirs now.
        sent = [e for e in db.session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind.in_(("escalate", "hand_down"))))
            if (e.changes or {}).get("transfer") == transfer.id]
        added = set(sent[-1].changes.get("named_ids", [])) if sent else set()
        keep = set(case.mediator_ids)
        gone = [u for u in case.named_users if u.id in added and u.id not in keep]
        if gone:
            case.named_users = [u for u in case.named_users if u not in gone]
            details["named_off"] = [u.display_name for u in gone]
    return details


def holder_at(case, when) -> OrgUnit:
    """The unit that held the case at ``when`` (stored UTC time), from its holdings: the
    committee whose work a paper of that moment records. A case never moved has one holder."""
    holdings = list(case.holdings)
    if when is None or not holdings:
        return case.unit
    for h in holdings:
        if h.since <= when and (h.until is None or when < h.until):
            return h.unit
    return holdings[0].unit if when < holdings[0].since else case.unit


def mediators_by_unit(case, entries) -> list[tuple[OrgUnit, list[str]]]:
    """Everyone who mediated the case, grouped by the unit they worked for, the lowest tier
    first (a village, then its town, then the station): the lead and co-mediators named
    while a unit held the case (assignments, and the mediators a receiving unit named), the
    authors of the given diary entries and the mediators ticked present, and its mediators now."""
    units: dict[int, OrgUnit] = {}
    names: dict[int, list[str]] = {}

    def add(unit, *people):
        units.setdefault(unit.id, unit)
        for name in people:
            if name and name not in names.setdefault(unit.id, []):
                names[unit.id].append(name)

    for event in case.events:
        if event.kind not in ("assign", "reassign", "receive"):
            continue
        changes = event.changes or {}
        lead = (changes.get("lead_mediator") or [None, None])[-1]
        co = (changes.get("co_mediators") or [None, []])[-1] or []
        if lead or co:
            add(holder_at(case, event.at), lead, *co)
    current = ([case.lead_mediator] if case.lead_mediator else []) + list(case.co_mediators)
    people = {u.id: u.display_name for u in current}
    missing = {i for e in entries for i in (e.mediator_ids or [])} - set(people)
    if missing:
        people |= dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(missing))).all())
    for e in entries:
        add(e.unit, e.author.display_name, *[people.get(i) for i in (e.mediator_ids or [])])
    if current:
        add(case.unit, *[u.display_name for u in current])
    order = sorted(units.values(), key=lambda u: -u.tier.depth)  # stable: first seen first within a tier
    return [(u, names[u.id]) for u in order if names.get(u.id)]


def transfers_of(case) -> list[Transfer]:
    return per_request(("transfers_of", case.id), lambda: list(db.session.scalars(
        select(Transfer).where(Transfer.case_id == case.id).order_by(Transfer.id))))


def escalation_targets(case) -> list[OrgUnit]:
    """The units above the holder in its district, nearest first (never above the station)."""
    return [u for u in reversed(case.unit.ancestors()) if u.active and u.tier.holds_cases]


def hand_down_targets(case) -> list[OrgUnit]:
    below = db.session.scalars(select(OrgUnit).where(
        OrgUnit.path.startswith(case.unit.path, autoescape=True), OrgUnit.id != case.unit_id,
        OrgUnit.active.is_(True)))
    return tree_order(list(below))


def home_units(case) -> list[OrgUnit]:
    """Where the parties live, as far as their addresses name a village or town of
    the network: the deepest unit whose name the address contains."""
    station = case.unit.station or case.unit
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True),
                                                     OrgUnit.path.startswith(station.path, autoescape=True))).all()
    found = []
    for party in case.parties:
        address = party.address or ""
        matches = [u for u in units if u.name and u.name in address]
        if not matches:
            continue
        # A village whose town is named too wins over a namesake elsewhere.
        found.append(max(matches, key=lambda u, a=address: (u.tier.depth, bool(u.parent and u.parent.name in a))))
    return found


def lowest_common_unit(units: list[OrgUnit]) -> OrgUnit | None:
    if not units:
        return None
    common = units[0]
    for unit in units[1:]:
        while not common.contains(unit):
            common = common.parent
    return common


def suggested_target(case) -> OrgUnit | None:
    """For parties in different villages or towns: the lowest unit above the holder
    that covers where they all live (else None: the parent is the usual target)."""
    homes = home_units(case)
    if len({u.id for u in homes}) < 2:
        return None
    common = lowest_common_unit([case.unit, *homes])
    if common is None or common.id == case.unit_id:
        return None
    return common


# --- attempts per tier and the escalation advice ----------------------------------------

def sessions_per_tier(case) -> dict[Tier, int]:
    """Mediation sessions recorded while a unit of each tier held the case (from the case's
    diary, which the case page has read already)."""
    out: dict[Tier, int] = {}
    for entry in diary.entries_of(case):
        if entry.kind is EntryKind.SESSION:
            out[entry.unit.tier] = out.get(entry.unit.tier, 0) + 1
    return out


def sessions_per_tier_of(case_ids: list[int]) -> dict[int, dict[Tier, int]]:
    """The same for many cases in one query: {case id: {tier: sessions}}."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(DiaryEntry.case_id, OrgUnit.tier, func.count(DiaryEntry.id))
        .join(OrgUnit, OrgUnit.id == DiaryEntry.unit_id)
        .where(DiaryEntry.case_id.in_(case_ids), DiaryEntry.kind == EntryKind.SESSION)
        .group_by(DiaryEntry.case_id, OrgUnit.tier)
    ).all()
    out: dict[int, dict[Tier, int]] = {}
    for case_id, tier, n in rows:
        out.setdefault(case_id, {})[tier] = n
    return out


@dataclass(frozen=True)
class Advice:
    reason: str  # "attempts", "major", "mass", "risk"
    message: str


def escalation_advice(case, sessions: dict[Tier, int] | None = None, agreed: bool | None = None) -> list[Advice]:
    """Why the case should go up now (empty: no advice). Only while the holder is
    working on it and has a unit above. ``sessions``: from ``sessions_per_tier_of``."""
    if case.unit.tier is Tier.STATION or (case.status not in OPEN_STATUSES
                                          and case.status is not CaseStatus.REGISTERED):
        return []
    out = []
    limits = current_app.config["ESCALATION_AFTER_SESSIONS"]
    limit = limits.get(case.unit.tier.value)
    done = (sessions_per_tier(case) if sessions is None else sessions).get(case.unit.tier, 0)
    # Sessions that reached an agreement are not failed attempts.
    if agreed is None:
        agreed = agreement_of(case) is not None
    if limit and done >= limit and not agreed:
        out.append(Advice("attempts", _("%(n)d sessions at this tier without settlement: consider escalating.",
                                        n=done)))
    if case.is_major:
        out.append(Advice("major", _("A major dispute: consider escalating it at once.")))
    if case.is_mass:
        out.append(Advice("mass", _("A mass dispute: consider escalating it at once.")))
    if case.risk_level in (RiskLevel.ORANGE, RiskLevel.RED):
        out.append(Advice("risk", _("High safety risk: consider escalating it at once.")))
    return out


def incoming_query(user):
    """Transfers waiting for the user's own unit, when the user decides for it (the home
    page counts them); None when the user does not decide."""
    if not is_manager_of(user, user.unit):
        return None
    return select(Transfer.id).where(Transfer.status == TransferStatus.PENDING, Transfer.to_unit_id == user.unit_id,
                                     access.sees_case(user, Transfer.case_id))


def is_late(transfer: Transfer) -> bool:
    """Pending longer than the configured number of days."""
    days = current_app.config["TRANSFER_DEADLINE_DAYS"]
    return transfer.status is TransferStatus.PENDING and (utcnow() - transfer.created_at).days >= days


# --- referrals ----------------------------------------------------------------------------

def refer(case, data: dict, by) -> dict:
    referral = Referral(
        case_id=case.id, destination=data["destination"],
        destination_name=(data.get("destination_name") or "").strip(), referred_on=data["referred_on"],
        reference=(data.get("reference") or "").strip(), note=(data.get("note") or "").strip(), created_by=by,
    )
    db.session.add(referral)
    db.session.flush()
    return {"referral": referral.id, "destination": referral.destination.value,
            "destination_name": referral.destination_name, "reference": referral.reference}


def holdings_of(case) -> list[CaseHolding]:
    """The periods the case was held, oldest first, with their units (once per request)."""
    return per_request(("holdings_of", case.id), lambda: list(db.session.scalars(
        select(CaseHolding).where(CaseHolding.case_id == case.id).options(joinedload(CaseHolding.unit))
        .order_by(CaseHolding.id))))


def referrals_of(case) -> list[Referral]:
    return per_request(("referrals_of", case.id), lambda: list(db.session.scalars(
        select(Referral).where(Referral.case_id == case.id).order_by(Referral.id))))


def open_referrals(case) -> list[Referral]:
    return [r for r in referrals_of(case) if r.is_open]


def record_referral_result(case, data: dict, by) -> dict:
    referral = data["referral"]
    referral.outcome = data["outcome_text"].strip()
    referral.outcome_on = data["outcome_on"]
    db.session.flush()
    return {"referral": referral.id, "destination": referral.destination.value,
            "referral_result": referral.outcome, "result_date": referral.outcome_on.isoformat()}


# --- delegated follow-up visits ---------------------------------------------------------------

def delegation_units(case) -> list[OrgUnit]:
    """Units a visit can be given to: those the case came from, and those right below the holder."""
    earlier = [h.unit for h in holdings_of(case) if h.unit_id != case.unit_id and h.unit.active]
    below = [u for u in case.unit.children if u.active] if case.unit.tier.child is not None else []
    seen, out = set(), []
    for unit in [*earlier, *below]:
        if unit.id not in seen:
            seen.add(unit.id)
            out.append(unit)
    return out


def delegate(case, data: dict, by) -> dict:
    # The visiting unit must see the case to make the visit, as a receiving unit must to take it in.
    details = _name_receivers(case, data["to_unit"])
    details.pop("named_ids", None)  # a visit done leaves them reading, as every visiting unit
    delegation = Delegation(case_id=case.id, unit=data["to_unit"], instruction=data["instruction"].strip(),
                            due_date=data["due_date"], created_by=by)
    db.session.add(delegation)
    db.session.flush()
    return {"delegation": delegation.id, "to_unit": delegation.unit.label, "due_date": delegation.due_date.isoformat(),
            **details}


def delegations_of(case) -> list[Delegation]:
    return access.delegations_of(case)


def open_delegations(case) -> list[Delegation]:
    return [d for d in delegations_of(case) if d.status is DelegationStatus.OPEN]


# Sent when a delegated visit is recorded: delegation_done.send(case, delegation=..., by=...) (the inbox
# tells who asked).
delegation_done = Signal("delegation done")


def complete_delegations(case, entry, by) -> None:
    """A diary entry written by the delegated unit completes its open visits
    (connected to ``diary.services.entry_written``)."""
    for delegation in open_delegations_for(by, case):
        if by.unit_id == case.unit_id:
            continue  # the holder's own entries do not do a delegated unit's visit
        delegation.status = DelegationStatus.DONE
        delegation.entry_id = entry.id
        delegation.done_at = utcnow()
        db.session.add(CaseEvent(case=case, actor=by, kind="delegation_done", from_status=case.status,
                                 to_status=case.status, changes={"delegation": delegation.id,
                                                                 "to_unit": delegation.unit.label}))
        delegation_done.send(case, delegation=delegation, by=by)


def check_unit(unit_id, choices: list[OrgUnit]) -> OrgUnit | None:
    """The chosen unit if it is one of the offered ones."""
    by_id = {u.id: u for u in choices}
    unit = by_id.get(unit_id)
    if unit_id and unit is None:
        raise DomainError(_("Choose one of the units offered."), field="to_unit")
    return unit


def _anonymise(case) -> None:
    """Retention: free text on moves may name people; units, kinds and dates stay for statistics."""
    db.session.execute(update(Transfer).where(Transfer.case_id == case.id)
                       .values(reason_text=PLACEHOLDER, note=PLACEHOLDER, decision_note=PLACEHOLDER))
    db.session.execute(update(Referral).where(Referral.case_id == case.id)
                       .values(note=PLACEHOLDER, outcome=PLACEHOLDER, reference=""))
    db.session.execute(update(Delegation).where(Delegation.case_id == case.id).values(instruction=PLACEHOLDER))


def _on_entry_written(case, *, entry, by) -> None:
    complete_delegations(case, entry, by)  # a delegated visit is done when its unit records it


def init_app(app) -> None:
    """Give the workflow the records behind its moving steps; complete delegated visits
    from the diary; scrub moves on retention."""
    for slot, fn in ((workflow.send, send), (workflow.receive, receive), (workflow.give_back, give_back),
                     (workflow.refer, refer), (workflow.record_referral_result, record_referral_result),
                     (workflow.delegate, delegate), (workflow.open_referrals, open_referrals),
                     (workflow.open_delegations, open_delegations),
                     (workflow.delegation_units, delegation_units)):
        slot.provide(fn)
    diary.entry_written.connect(_on_entry_written, weak=False)
    anonymiser(_anonymise)
