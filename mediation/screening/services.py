"""Recording screenings and what the risk level allows. The level comes from
``scoring``; the case's governing level is the highest result of its parties and
never falls silently: only a coordinator lowers it, with a reason. Services flush.
``init_app`` gives access, the case services and the workflow what they ask of screening."""
from flask_babel import gettext as _
from sqlalchemy import select, update

from .. import access, audit
from ..cases import services as case_services
from ..cases import workflow
from ..cases.models import Case, CaseEvent, Party, RiskLevel, higher, rank
from ..errors import DomainError
from ..extensions import db
from ..memo import per_request
from ..retention.services import PLACEHOLDER, anonymiser
from ..timeutil import utcnow
from ..transfers.services import referrals_of
from .models import Occasion, RiskChange, SafetyPlan, Screening
from .scoring import ANSWER_VALUE, ITEMS, prompts, score

# Referrals that count for an orange case's "settled" (SCREENING.md §4).
SAFETY_REFERRALS = ("womens_federation", "legal_aid", "social_work")


def may_screen(user, case: Case) -> bool:
    if not workflow.is_writable(case) or getattr(case, "anonymised_at", None) is not None:
        return False  # closed or archived: kept as it is (and anonymised in time), nothing new is added
    return access.acts_on(user, case)


def sees_answers(user, case: Case) -> bool:
    """A party's answers: the case's mediators only (never the other side, never a print)."""
    return user.id in case.mediator_ids


def record(case: Case, party: Party, *, occasion: Occasion, answers: dict, by, unsafe_tonight=False,
           breach=False, child_harmed=False, note: str = "", asked_alone: bool = True) -> Screening:
    """:raise DomainError: not allowed (the case closed or archived), wrong party, an unanswered
    item, or not asked alone."""
    workflow.ensure_writable(case)
    if not may_screen(by, case):
        raise DomainError(_("You may not do this on this case."))
    if party.case_id != case.id:
        raise DomainError(_("Choose a party of this case."))
    if not asked_alone:
        raise DomainError(_("Each party is asked alone, without the other present."), field="asked_alone")
    clean = {}
    for item in ITEMS:
        value = answers.get(item.number) or answers.get(str(item.number))
        if value not in ANSWER_VALUE:
            raise DomainError(_("Answer question %(n)d.", n=item.number), field=f"q{item.number}")
        clean[str(item.number)] = value
    result = score({int(k): v for k, v in clean.items()}, unsafe_tonight=unsafe_tonight, breach=breach,
                   child_harmed=child_harmed)
    screening = Screening(case_id=case.id, party_id=party.id, occasion=occasion, answers=clean,
                          unsafe_tonight=unsafe_tonight, breach=breach, child_harmed=child_harmed,
                          score=result.score, level=result.level, note=(note or "").strip(), by=by)
    db.session.add(screening)
    db.session.flush()
    _forget(case)
    new = higher(case.risk_level, result.level)
    if new is not case.risk_level:
        _change(case, new, by=by, reason="", screening=screening)
    if rank(result.level) >= rank(RiskLevel.ORANGE):
        case.dv_flag = True
    # The timeline is read by all who see the case: the level only, never the answers.
    db.session.add(CaseEvent(case=case, actor=by, kind="screened", from_status=case.status, to_status=case.status,
                             changes={"screening": screening.id, "level": result.level.value,
                                      "occasion": occasion.value}))
    db.session.flush()
    return screening


def _forget(case: Case) -> None:
    from flask import g, has_request_context

    if has_request_context():
        g.setdefault("screenings_of", {}).pop(case.id, None)


def _change(case: Case, level: RiskLevel, *, by, reason: str, screening=None) -> None:
    db.session.add(RiskChange(case_id=case.id, from_level=case.risk_level, to_level=level, reason=reason,
                              screening_id=screening.id if screening else None, by=by))
    audit.record("case.risk", target=case, actor=by, details={
        "number": case.number, "from": case.risk_level.value, "to": level.value,
        "reason": reason or ("screening" if screening else "")})
    case.risk_level = level
    case.updated_at = utcnow()  # a changed case: the inbox looks at it again (escalation advice)


def raise_level(case: Case, level: RiskLevel, *, by, reason: str) -> dict:
    """A mediator may always raise the level (workflow effect)."""
    if level is None or rank(level) <= rank(case.risk_level):
        raise DomainError(_("Choose a level higher than the present one."), field="risk_level")
    old = case.risk_level
    _change(case, level, by=by, reason=reason)
    if rank(level) >= rank(RiskLevel.ORANGE):
        case.dv_flag = True
    return {"risk_level": [old.value, level.value]}


def lower_level(case: Case, level: RiskLevel, *, by, reason: str) -> dict:
    """Lowering needs a coordinator and a reason (workflow guards the who)."""
    if level is None or rank(level) >= rank(case.risk_level):
        raise DomainError(_("Choose a level lower than the present one."), field="risk_level")
    if not (reason or "").strip():
        raise DomainError(_("Please give a reason."), field="reason")
    old = case.risk_level
    _change(case, level, by=by, reason=reason.strip())
    out = {"risk_level": [old.value, level.value]}
    if level is RiskLevel.NONE and case.dv_flag:
        case.dv_flag = False
        out["dv_flag"] = [True, False]
    return out


def screenings_of(case: Case) -> list[Screening]:
    """The case's screenings; within a request read once (the case page asks several times)."""
    return per_request(("screenings_of", case.id), lambda: list(db.session.scalars(
        select(Screening).where(Screening.case_id == case.id).order_by(Screening.id))))


def latest_by_party(case: Case, screenings=None) -> dict[int, Screening]:
    out = {}
    for s in screenings if screenings is not None else screenings_of(case):
        out[s.party_id] = s
    return out


def risk_changes(case: Case) -> list[RiskChange]:
    return per_request(("risk_changes", case.id), lambda: list(db.session.scalars(
        select(RiskChange).where(RiskChange.case_id == case.id).order_by(RiskChange.id))))


def add_safety_plan(case: Case, *, measures: str, by) -> SafetyPlan:
    """:raise DomainError: not allowed (the case closed or archived), or no measures."""
    workflow.ensure_writable(case)
    if not may_screen(by, case):
        raise DomainError(_("You may not do this on this case."))
    if not (measures or "").strip():
        raise DomainError(_("Write down the safety measures."), field="measures")
    plan = SafetyPlan(case_id=case.id, measures=measures.strip(), by=by)
    db.session.add(plan)
    db.session.add(CaseEvent(case=case, actor=by, kind="safety_plan", from_status=case.status,
                             to_status=case.status, changes={}))
    db.session.flush()
    return plan


def safety_plans(case: Case) -> list[SafetyPlan]:
    return per_request(("safety_plans", case.id), lambda: list(db.session.scalars(
        select(SafetyPlan).where(SafetyPlan.case_id == case.id).order_by(SafetyPlan.id))))


def has_safety_referral(case: Case) -> bool:
    return any(r.destination.value in SAFETY_REFERRALS for r in referrals_of(case))


def safety_arranged(case: Case) -> bool:
    """What an orange case needs before it is settled: a safety plan and a safety referral."""
    return bool(safety_plans(case) and has_safety_referral(case))


def flagged(case: Case) -> bool:
    return case.dv_flag or rank(case.risk_level) >= rank(RiskLevel.ORANGE)


def protected_party_ids(case: Case) -> set[int]:
    """Whose address and phone are hidden: in a flagged case, every party a screening
    found at risk; with no such screening yet, every party (the safe default)."""
    if not flagged(case):
        return set()
    at_risk = {s.party_id for s in screenings_of(case) if s.level is not RiskLevel.NONE}
    return at_risk or {p.id for p in case.parties}


def contacts_visible(user, case: Case, party: Party) -> bool:
    """Only the case's mediators see a protected party's address and phone (and, until
    mediators are named, the person who registered the case and typed them in)."""
    if party.id not in protected_party_ids(case) or user.id in case.mediator_ids:
        return True
    return not case.mediator_ids and user.id == case.created_by_id


def revealing_visit(user, case: Case, party: Party):
    """The open delegated visit through which ``user`` may ask for a protected party's
    address and phone (a unit given a follow-up visit must find the party), or None: the
    party is not protected from the user, or no visit on the case is open for the user's
    unit. Each reveal is audited (``cases.reveal.contacts``)."""
    if contacts_visible(user, case, party):
        return None
    visits = access.open_delegations_for(user, case)
    return visits[0] if visits else None


def prompts_for(case: Case, latest: dict[int, Screening]) -> list[str]:
    """Prompt codes for the case page: per-answer ones of the latest screenings, then by level."""
    out: list[str] = []
    for s in latest.values():
        for code in prompts({int(k): v for k, v in s.answers.items()}, child_harmed=s.child_harmed,
                            breach=s.breach, unsafe_tonight=s.unsafe_tonight):
            if code not in out:
                out.append(code)
    return out


def screened_at(case: Case, occasion: Occasion) -> set[int]:
    """Parties screened on this occasion."""
    return {s.party_id for s in screenings_of(case) if s.occasion is occasion}


def screened_at_closure(case: Case) -> set[int]:
    return screened_at(case, Occasion.CLOSURE)


def has_screenings(party: Party) -> bool:
    """A screened party stays on its case (the case form cannot remove it)."""
    return db.session.scalar(select(Screening.id).where(Screening.party_id == party.id).limit(1)) is not None


def last_screened_for(case: Case, occasion: Occasion) -> bool:
    return db.session.scalar(select(Screening.id).where(Screening.case_id == case.id,
                                                        Screening.occasion == occasion).limit(1)) is not None


def _anonymise(case: Case) -> None:
    """Retention: screening notes, safety plans and reasons go; levels and dates stay for statistics.
    (Core UPDATEs: the rows are otherwise kept as written.)"""
    db.session.execute(update(Screening).where(Screening.case_id == case.id, Screening.note != "")
                       .values(note=PLACEHOLDER))
    db.session.execute(update(SafetyPlan).where(SafetyPlan.case_id == case.id).values(measures=PLACEHOLDER))
    db.session.execute(update(RiskChange).where(RiskChange.case_id == case.id, RiskChange.reason != "")
                       .values(reason=PLACEHOLDER))


def init_app(app) -> None:
    """Fill the slots of the modules below that ask about screenings and risk levels."""
    access.protected_party_ids.provide(protected_party_ids)
    case_services.party_has_screenings.provide(has_screenings)
    case_services.record_risk_change.provide(_change)
    workflow.latest_screenings.provide(latest_by_party)
    workflow.screened_at_closure.provide(screened_at_closure)
    workflow.safety_arranged.provide(safety_arranged)
    workflow.raise_risk.provide(raise_level)
    workflow.lower_risk.provide(lower_level)
    anonymiser(_anonymise)
