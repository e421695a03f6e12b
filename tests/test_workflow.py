"""The case state machine, at the service level."""
import pytest
from sqlalchemy import select

from mediation.cases import workflow
from mediation.cases.models import CaseEvent
from mediation.cases.workflow import CaseStatus, Outcome, WorkflowError
from mediation.extensions import db

from .factories import advance, make_case, user


def test_the_whole_lifecycle_with_events(demo):
    case = make_case()
    assert case.status is CaseStatus.REGISTERED and case.number == "（2026）金坛婚调字第0001号"
    advance(case, "accept", "assign")
    assert case.due_date is not None and case.lead_mediator.username == "med-320413109201"
    advance(case, "start", "conclude", "follow_up", "close", by="med-320413109201")
    assert case.status is CaseStatus.CLOSED and case.outcome is Outcome.SUCCESS
    advance(case, "reopen")
    assert case.status is CaseStatus.IN_MEDIATION and case.outcome is None
    advance(case, "conclude", "follow_up", "close", by="med-320413109201")
    advance(case, "archive")
    kinds = [e.kind for e in case.events if e.kind not in ("diary", "agreement", "screened")]
    assert kinds == ["created", "accept", "assign", "start", "conclude", "follow_up", "close", "reopen",
                     "conclude", "follow_up", "close", "archive"]
    assert all(e.actor is not None for e in case.events)


@pytest.mark.parametrize("step, by", [
    ("close", "coord-320413109"),       # not from registered
    ("start", "med-320413109201"),      # not before acceptance
    ("archive", "coord-320413109"),     # only closed or declined cases
    ("nonsense", "coord-320413109"),
])
def test_illegal_moves_are_refused_and_change_nothing(demo, step, by):
    case = make_case()
    events = len(case.events)
    with pytest.raises(WorkflowError):
        workflow.transition(case, step, by=user(by))
    db.session.rollback()
    db.session.refresh(case)
    assert case.status is CaseStatus.REGISTERED and len(case.events) == events


def test_guards(demo):
    no_consent = make_case(consent_to_mediate=False)
    with pytest.raises(WorkflowError, match="同意调解"):
        advance(no_consent, "accept")
    db.session.rollback()
    with pytest.raises(WorkflowError, match="理由"):
        advance(no_consent, "decline", reason="  ")
    db.session.rollback()
    advance(no_consent, "decline", reason="被申请人明确拒绝调解")
    assert no_consent.status is CaseStatus.DECLINED and no_consent.decline_reason == "被申请人明确拒绝调解"

    no_notice = make_case(rights_notice_date=None)
    advance(no_notice, "accept", "assign")
    with pytest.raises(WorkflowError, match="告知"):
        advance(no_notice, "start", by="med-320413109201")
    db.session.rollback()

    case = make_case()
    advance(case, "accept", "assign")
    advance(case, "start", by="med-320413109201")
    with pytest.raises(WorkflowError, match="协议"):
        workflow.transition(case, "conclude", by=user("med-320413109201"), outcome=Outcome.SUCCESS)
    db.session.rollback()
    with pytest.raises(WorkflowError, match="其他|途径"):
        advance(case, "conclude", by="med-320413109201", outcome=Outcome.FAILED)
    db.session.rollback()
    advance(case, "conclude", by="med-320413109201")
    with pytest.raises(WorkflowError, match="回访"):
        advance(case, "close", by="med-320413109201")  # settled: follow-up first
    db.session.rollback()


def test_not_settled_closes_without_follow_up(demo):
    case = make_case()
    advance(case, "accept", "assign")
    advance(case, "start", by="med-320413109201")
    advance(case, "conclude", by="med-320413109201", outcome=Outcome.FAILED, told_other_routes=True)
    with pytest.raises(WorkflowError):
        advance(case, "follow_up", by="med-320413109201")
    db.session.rollback()
    advance(case, "close", by="med-320413109201")
    assert case.status is CaseStatus.CLOSED


def test_who_may_do_what(demo):
    case = make_case()
    # A village without a coordinator: its mediator may accept the case itself.
    names = lambda u: {t.name for t in workflow.allowed(case, user(u))}  # noqa: E731
    # Before acceptance a case may also be escalated or referred out (e.g. it belongs to the court).
    both = {"accept", "decline", "escalate", "refer", "raise_risk"}
    assert names("med-320413109201") == both
    # Coordinators proper may also restrict access to the case.
    assert names("coord-320413109") == both | {"restrict"}
    assert names("admin") == both | {"restrict"}
    assert names("med-320413109202") == set()  # another village
    assert names("coord-320413106") == set()  # another town
    with pytest.raises(WorkflowError):
        workflow.transition(case, "accept", by=user("med-320413109202"))
    db.session.rollback()
    advance(case, "accept", "assign")
    assert names("med-320413109201") >= {"start"} and "assign" not in names("med-320413109201")


def test_a_village_with_its_own_coordinator_leaves_acceptance_to_it(demo):
    from mediation.users.models import Role
    from mediation.users.services import create_user

    from .factories import unit

    create_user(username="cun-fuzeren", display_name="村负责人", unit=unit("320413109201"),
                roles={Role.COORDINATOR}, password="", password_hash="x")
    db.session.commit()
    case = make_case()
    assert not {t.name for t in workflow.allowed(case, user("med-320413109201"))}


def test_events_are_append_only(demo):
    case = make_case()
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id))
    event.note = "changed"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(CaseEvent, event.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
