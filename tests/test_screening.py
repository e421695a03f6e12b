"""DV safety screening: the scoring of SCREENING.md §4, what each level allows (through
the UI and through crafted POSTs), answers kept from the other side, protected contacts."""
import io
import json
from importlib import resources

import pytest
from pypdf import PdfReader

from mediation.cases import workflow
from mediation.cases.models import Party, RiskLevel
from mediation.cases.workflow import CaseStatus, Outcome, WorkflowError
from mediation.diary.models import EntryKind, SessionMode
from mediation.errors import DomainError
from mediation.extensions import db
from mediation.screening import services
from mediation.screening.models import Occasion, RiskChange
from mediation.screening.scoring import ITEMS, MAX_SCORE, score
from mediation.timeutil import local_today
from mediation.users.models import Role

from .factories import advance, make_agreement, make_case, unit, user, write_entry

MED, COORD = "med-320413109201", "coord-320413109"


def answers(yes=(), unsure=()):
    return {i.number: "yes" if i.number in yes else "unsure" if i.number in unsure else "no" for i in ITEMS}


@pytest.mark.parametrize("given, level", [
    ({}, "none"),
    ({"yes": (15,)}, "yellow"),
    ({"yes": (6, 9)}, "yellow"),  # 5
    ({"yes": (5, 9)}, "orange"),  # 6
    ({"yes": (6, 16)}, "orange"),  # violence and fear
    ({"yes": (1,)}, "red"),  # red on its own
    ({"unsure": (3,)}, "yellow"),  # unsure counts half; an unsure R item is not red on its own
    ({"yes": (5, 7, 9, 13)}, "red"),  # 12
    ({"yes": (10, 11, 6)}, "red"),  # control + separation + violence
    ({"yes": (10, 11)}, "yellow"),
])
def test_scoring_rules(given, level):
    assert score(answers(**given)).level.value == level
    assert MAX_SCORE == 47


def test_follow_ups_raise_the_level():
    assert score(answers(), breach=True).level is RiskLevel.ORANGE
    assert score(answers(), unsafe_tonight=True).level is RiskLevel.RED


def test_the_demo_scenarios_score_as_expected():
    data = json.loads(resources.files("mediation").joinpath("data/demo_scenarios.json").read_text("utf-8"))
    assert len(data) == 24
    for scenario in data:
        given = {int(k): "yes" if v is True else "no" if v is False else "unsure"
                 for k, v in scenario["screening"]["answers"].items()}
        assert score(given).level.value == scenario["screening"]["expected_level"], scenario["id"]


def post_screening(client, case, party, yes=(), **extra):
    data = {"party": party.id, "occasion": "intake", "asked_alone": "y"}
    data.update({f"q{i.number}": "yes" if i.number in yes else "no" for i in ITEMS})
    data.update(extra)
    return client.post(f"/cases/{case.id}/screening/new", data=data)


def screened(case, level_yes, party=0, by=MED, occasion=Occasion.INTAKE):
    s = services.record(case, case.parties[party], occasion=occasion, answers=answers(yes=level_yes), by=user(by))
    db.session.commit()
    return s


def test_screening_through_the_form_sets_the_level_and_never_lowers_it(demo, login):
    case = advance(make_case(), "accept", "assign")
    med = login(MED)
    resp = post_screening(med, case, case.parties[0], yes=(5, 9), asked_alone="")
    assert resp.status_code == 200 and "单独询问" in resp.get_data(as_text=True)  # asked alone, or nothing saved
    assert not services.screenings_of(case)
    resp = post_screening(med, case, case.parties[0], yes=(5, 9))
    assert resp.status_code == 302
    db.session.refresh(case)
    assert case.risk_level is RiskLevel.ORANGE and case.dv_flag
    # The other party's lower result does not lower the case; a later lower screening neither.
    post_screening(med, case, case.parties[1], yes=())
    post_screening(med, case, case.parties[0], yes=(15,))
    db.session.refresh(case)
    assert case.risk_level is RiskLevel.ORANGE
    # Lowering: not by the mediator; by the coordinator only with a reason.
    med.post(f"/cases/{case.id}/do/lower_risk", data={"version": str(case.version), "risk_level": "yellow",
                                                      "reason": "x"})
    db.session.refresh(case)
    assert case.risk_level is RiskLevel.ORANGE
    with pytest.raises(WorkflowError):
        workflow.transition(case, "lower_risk", by=user(MED), risk_level=RiskLevel.YELLOW, reason="x")
    db.session.rollback()
    coord = login(COORD)
    refused = coord.post(f"/cases/{case.id}/do/lower_risk", data={"version": str(case.version),
                                                                  "risk_level": "yellow"}).get_data(as_text=True)
    db.session.refresh(case)
    assert case.risk_level is RiskLevel.ORANGE
    # Told at the reason box, and the summary names it (QA: "请填写理由。" alone).
    assert '<a class="alert-link fw-normal" href="#reason">理由：请填写理由。</a>' in refused
    coord.post(f"/cases/{case.id}/do/lower_risk", data={"version": str(case.version), "risk_level": "yellow",
                                                        "reason": "复筛：已分居半年，无新事件"})
    db.session.refresh(case)
    assert case.risk_level is RiskLevel.YELLOW
    change = db.session.scalars(db.select(RiskChange).where(RiskChange.case_id == case.id)
                                .order_by(RiskChange.id.desc())).first()
    assert change.reason == "复筛：已分居半年，无新事件" and change.by.username == COORD
    # The edit form cannot lower it either.
    with pytest.raises(DomainError):
        from mediation.cases.services import _check_risk_change

        _check_risk_change(case, {"risk_level": RiskLevel.NONE}, user(MED))
    # A mediator may raise it.
    med.post(f"/cases/{case.id}/do/raise_risk", data={"version": str(case.version), "risk_level": "red",
                                                      "reason": "对方扬言报复"})
    db.session.refresh(case)
    assert case.risk_level is RiskLevel.RED


def test_answers_are_for_the_case_mediators_only(demo, login):
    case = advance(make_case(), "accept", "assign")
    s = screened(case, (5, 9, 12))
    coord = login(COORD)
    assert coord.get(f"/cases/{case.id}/screening/{s.id}").status_code == 403
    page = coord.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "危机干预" not in page  # per-answer prompts reveal answers: mediators only
    med = login(MED)
    assert "危机干预" in med.get(f"/cases/{case.id}").get_data(as_text=True)
    shown = med.get(f"/cases/{case.id}/screening/{s.id}").get_data(as_text=True)
    assert "对方威胁过或尝试过自杀吗" in shown
    assert login("med-320413109202").get(f"/cases/{case.id}/screening/{s.id}").status_code == 404
    with pytest.raises(RuntimeError):  # kept as written
        s.note = "改"
        db.session.commit()
    db.session.rollback()


def test_orange_no_joint_session_and_no_settlement_without_plan_and_referral(demo, login):
    case = advance(make_case(), "accept", "assign", "start")
    screened(case, (5, 9))
    assert case.risk_level is RiskLevel.ORANGE
    with pytest.raises(DomainError):
        write_entry(case, mode=SessionMode.JOINT)
    db.session.rollback()
    write_entry(case, mode=SessionMode.SEPARATE)
    make_agreement(case)
    med = login(MED)
    # A crafted POST is refused just like the form.
    resp = med.post(f"/cases/{case.id}/do/conclude", data={"version": str(case.version), "outcome": "success"})
    assert "安全计划" in resp.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status is CaseStatus.IN_MEDIATION
    med.post(f"/cases/{case.id}/screening/safety-plan", data={"measures": "暂住娘家；每周电话联系；遇险拨110"})
    with pytest.raises(WorkflowError):
        workflow.transition(case, "conclude", by=user(MED), outcome=Outcome.SUCCESS)
    db.session.rollback()
    workflow.transition(case, "refer", by=user(MED), destination=__import__(
        "mediation.transfers.models", fromlist=["x"]).ReferralDestination.WOMENS_FEDERATION,
        referred_on=local_today())
    db.session.commit()
    workflow.transition(case, "conclude", by=user(MED), outcome=Outcome.SUCCESS)
    db.session.commit()
    assert case.status is CaseStatus.CONCLUDED


def test_red_suspends_mediation(demo, login):
    case = advance(make_case(), "accept", "assign")
    screened(case, (2,))
    assert case.risk_level is RiskLevel.RED
    med = login(MED)
    page = med.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "110" in page and "保护令" in page
    med.post(f"/cases/{case.id}/do/start", data={"version": str(case.version)})
    db.session.refresh(case)
    assert case.status is CaseStatus.ASSIGNED
    case.status = CaseStatus.IN_MEDIATION  # as if it had started before the screening
    db.session.commit()
    with pytest.raises(DomainError):
        write_entry(case, kind=EntryKind.SESSION, mode=SessionMode.SEPARATE)
    db.session.rollback()
    for outcome in (Outcome.SUCCESS, Outcome.FAILED):
        with pytest.raises(WorkflowError):
            workflow.transition(case, "conclude", by=user(MED), outcome=outcome, told_other_routes=True)
        db.session.rollback()
    workflow.transition(case, "conclude", by=user(MED), outcome=Outcome.TERMINATED, told_other_routes=True)
    db.session.commit()
    assert case.outcome is Outcome.TERMINATED


def test_protected_contacts_reach_no_one_but_the_mediators(demo, login):
    case = make_case()
    victim = db.session.scalar(db.select(Party).where(Party.case_id == case.id, Party.position == 0))
    victim.phone, victim.address = "13800000199", "上阳村9组99号"
    db.session.commit()
    advance(case, "accept", "assign", "start")
    screened(case, (5, 9))
    make_agreement(case)
    med, coord = login(MED), login(COORD)
    assert "13800000199" in med.get(f"/cases/{case.id}").get_data(as_text=True)
    page = coord.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "13800000199" not in page and "上阳村9组99号" not in page and "已保护" in page
    assert coord.get(f"/cases/{case.id}/edit").status_code == 403
    for client in (med, coord):
        for path in ("agreement.pdf", "intake.pdf", "file.pdf"):
            resp = client.get(f"/cases/{case.id}/{path}")
            assert resp.status_code == 200, path
            text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages).replace(" ", "")
            assert "13800000199" not in text and "上阳村9组99号" not in text, path


def test_a_restricted_case_is_for_named_users_and_opening_it_is_logged(demo, login):
    from mediation.audit.models import AuditEvent

    case = advance(make_case(), "accept", "assign")
    coord = login(COORD)
    resp = coord.post(f"/cases/{case.id}/do/restrict", data={
        "version": str(case.version), "named_users": [user("admin").id], "reason": "当事人系村干部亲属"})
    assert resp.status_code == 302
    db.session.refresh(case)
    assert case.restricted and {u.username for u in case.named_users} == {COORD, "admin", MED}
    # Not named: as if it did not exist, in lists and pages alike.
    other = login("med-320413")
    assert other.get(f"/cases/{case.id}").status_code == 404
    assert case.number not in other.get("/cases/").get_data(as_text=True)
    # Named: asked for a reason first; the opening is in the audit log.
    admin = login("admin")
    resp = admin.get(f"/cases/{case.id}/diary.pdf")
    assert resp.status_code == 302 and "/open" in resp.headers["Location"]
    assert admin.post(f"/cases/{case.id}/do/conclude", data={}).status_code == 403
    resp = admin.post(f"/cases/{case.id}/open?next=/cases/{case.id}", data={"reason": "督办"})
    assert resp.status_code == 302
    assert admin.get(f"/cases/{case.id}").status_code == 200
    logged = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "case.open_restricted")).all()
    assert [e.details.get("reason") for e in logged] == ["督办"]
    # Only a coordinator lifts it.
    med = login(MED)
    med.get(f"/cases/{case.id}/open")
    med.post(f"/cases/{case.id}/open", data={"reason": "调解"})
    med.post(f"/cases/{case.id}/do/unrestrict", data={"version": str(case.version), "reason": "x"})
    db.session.refresh(case)
    assert case.restricted
    coord.post(f"/cases/{case.id}/open", data={"reason": "解除"})
    coord.post(f"/cases/{case.id}/do/unrestrict", data={"version": str(case.version), "reason": "风险已解除"})
    db.session.refresh(case)
    assert not case.restricted
    assert other.get(f"/cases/{case.id}").status_code == 200


def test_a_mediator_cannot_restrict_a_case_out_of_every_supervisors_sight(demo, login):
    """Restricted by its village mediator with nobody named, the case would leave the town
    coordinator and the station for good, and nobody could lift the restriction: refused, the
    form says why; naming the coordinator restricts it, and the coordinator can lift it."""
    case = advance(make_case(), "accept", "assign", "start")
    med = login(MED)
    data = {"version": str(case.version), "reason": "当事人系村干部亲属"}
    refused = med.post(f"/cases/{case.id}/do/restrict", data=data)
    assert refused.status_code == 200 and "只有他们能解除限制" in refused.get_data(as_text=True)
    db.session.refresh(case)
    assert not case.restricted
    assert med.post(f"/cases/{case.id}/do/restrict", data={**data, "named_users": [user("med-320413").id]}) \
        .status_code == 200  # a mediator of the station is no supervisor
    from sqlalchemy import event

    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        form = med.get(f"/cases/{case.id}/do/restrict").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert "薛埠镇 · 负责人" in form and "始终可见" in form  # who can lift it, told apart (QA)
    assert len(seen) <= 10  # as every page
    done = med.post(f"/cases/{case.id}/do/restrict", data={**data, "named_users": [user(COORD).id]})
    assert done.status_code == 302
    db.session.refresh(case)
    assert case.restricted
    # The one who restricted it (with a reason) is not asked why they open it (QA).
    assert med.get(done.headers["Location"]).status_code == 200
    coord = login(COORD)
    coord.post(f"/cases/{case.id}/open", data={"reason": "督办"})
    assert "unrestrict" in coord.get(f"/cases/{case.id}").get_data(as_text=True)
    coord.post(f"/cases/{case.id}/do/unrestrict", data={"version": str(case.version), "reason": "风险已解除"})
    db.session.refresh(case)
    assert not case.restricted


def test_retention_removes_screening_and_transfer_text_but_keeps_levels(demo, login, app):
    from datetime import timedelta

    from mediation.retention.services import anonymise_case
    from mediation.screening.models import SafetyPlan, Screening
    from mediation.timeutil import utcnow
    from mediation.transfers.models import EscalationReason, Transfer, Urgency

    from .factories import unit

    case = advance(make_case(), "accept", "assign")
    s = services.record(case, case.parties[0], occasion=Occasion.INTAKE, answers=answers(yes=(5, 9)),
                        by=user(MED), note="她说丈夫周某昨晚又动手")
    services.add_safety_plan(case, measures="暂住娘家汤家村", by=user(MED))
    workflow.transition(case, "escalate", by=user(MED), to_unit=unit("320413109"),
                        reason_code=EscalationReason.SAFETY, urgency=Urgency.URGENT, note="周某扬言报复")
    db.session.commit()
    case.archived_at = utcnow() - timedelta(days=1)
    anonymise_case(case)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Screening, s.id).note != "她说丈夫周某昨晚又动手"
    assert db.session.get(Screening, s.id).level is RiskLevel.ORANGE
    assert "汤家村" not in db.session.scalar(db.select(SafetyPlan.measures).where(SafetyPlan.case_id == case.id))
    assert db.session.scalar(db.select(Transfer.note).where(Transfer.case_id == case.id)) != "周某扬言报复"


def test_a_harmed_child_alone_prompts_the_mandatory_report_and_raises_the_level(demo, login):
    case = advance(make_case(), "accept", "assign")
    s = services.record(case, case.parties[0], occasion=Occasion.INTAKE, answers=answers(), by=user(MED),
                        child_harmed=True)
    db.session.commit()
    assert s.level is RiskLevel.ORANGE and case.dv_flag
    assert "强制报告" in login(MED).get(f"/cases/{case.id}").get_data(as_text=True)


def test_orange_and_red_refuse_any_face_to_face_meeting_and_red_any_agreement(demo, login):
    case = advance(make_case(), "accept", "assign", "start")
    screened(case, (5, 9))
    for kind in (EntryKind.VISIT, EntryKind.INVESTIGATION, EntryKind.CALL):
        with pytest.raises(DomainError):
            write_entry(case, kind=kind, mode=SessionMode.JOINT)
        db.session.rollback()
    screened(case, (1,))
    assert case.risk_level is RiskLevel.RED
    with pytest.raises(DomainError):
        make_agreement(case)
    db.session.rollback()
    resp = login(MED).post(f"/cases/{case.id}/agreement/", data={"kind": "written", "reached_on": "2026-11-20",
                                                               "terms-0-content": "每月给付"})
    from mediation.agreements.services import agreement_of

    assert agreement_of(case) is None and resp.status_code in (200, 302, 403, 409)


def test_a_red_case_ends_for_safety_before_mediation_starts(demo, login):
    case = advance(make_case(), "accept", "assign")
    screened(case, (3,))
    med = login(MED)
    assert "end_for_safety" in med.get(f"/cases/{case.id}").get_data(as_text=True)
    med.post(f"/cases/{case.id}/do/end_for_safety", data={"version": str(case.version), "reason": "对方扬言杀人"})
    db.session.refresh(case)
    assert case.status is CaseStatus.ASSIGNED  # the parties must have been told of their other routes
    med.post(f"/cases/{case.id}/do/end_for_safety", data={"version": str(case.version), "reason": "对方扬言杀人",
                                                           "told_other_routes": "y"})
    db.session.refresh(case)
    assert case.status is CaseStatus.CONCLUDED and case.outcome is Outcome.TERMINATED


def test_closure_needs_every_party_screened_again(demo):
    case = advance(make_case(), "accept", "assign", "start")
    write_entry(case)
    screened(case, (15,))
    advance(case, "conclude", by=MED, outcome=Outcome.FAILED, told_other_routes=True)
    screened(case, (), party=1, occasion=Occasion.CLOSURE)
    with pytest.raises(WorkflowError):
        workflow.transition(case, "close", by=user(MED))
    db.session.rollback()
    screened(case, (), party=0, occasion=Occasion.CLOSURE)
    workflow.transition(case, "close", by=user(MED))
    db.session.commit()
    assert case.status is CaseStatus.CLOSED


def test_the_dv_flag_is_not_cleared_by_the_edit_form_and_archived_cases_take_no_screening(demo, login):
    from mediation.cases.services import _check_risk_change

    case = advance(make_case(dv_flag=True), "accept", "assign")
    with pytest.raises(DomainError):
        _check_risk_change(case, {"dv_flag": False, "risk_level": case.risk_level}, user(MED))
    case.status = CaseStatus.ARCHIVED
    db.session.commit()
    assert not services.may_screen(user(MED), case)
    assert login(MED).get(f"/cases/{case.id}/screening/new").status_code == 403


def test_a_lead_turned_flagged_case_hides_its_place_and_phone(demo, login):
    grid = login("grid-320413109201")
    grid.post("/leads/new", data={"who": "8组李家", "where": "上阳村8组66号", "what": "丈夫打人",
                                  "urgency": "urgent", "contact_phone": "13977778888"})
    from mediation.leads.models import Lead

    lead = db.session.scalar(db.select(Lead))
    page = login(MED).get(f"/cases/new?lead={lead.id}").get_data(as_text=True)
    assert "上阳村8组66号" in page  # offered as the first party's address, not the summary
    case = make_case(summary=lead.what)
    lead.case_id = case.id
    case.dv_flag = True
    db.session.commit()
    listing = login(COORD).get("/leads/").get_data(as_text=True)
    assert "13977778888" not in listing and "上阳村8组66号" not in listing


def test_logging_out_ends_the_session_even_for_a_copied_cookie(demo, app):
    client = app.test_client()
    client.post("/login", data={"username": MED, "password": "jintan-demo"})
    cookie = client.get_cookie("session")
    assert client.get("/").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/").status_code == 302


def test_huge_ids_are_not_found(demo, login):
    med = login(MED)
    for path in ("/cases/99999999999999999999999", "/inbox/99999999999999999999", "/cases/1/screening/9999999999999"):
        assert med.get(path).status_code == 404, path


def test_the_one_who_can_lift_a_restriction_is_not_deactivated_or_demoted_away(demo, login):
    """Named alone as the supervisor of a restricted case, the town coordinator cannot be
    deactivated or made a plain mediator: nobody could then see the case to lift it (attack
    review). Once another supervisor is named, both changes go through."""
    from mediation.users.services import set_user_active, update_user

    case = advance(make_case(), "accept", "assign", "start")
    workflow.transition(case, "restrict", by=user(MED), named_users=[user(COORD)], reason="当事人系村干部亲属")
    db.session.commit()
    admin = login("admin")
    coord = user(COORD)
    refused = admin.post(f"/users/{coord.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "唯一人员" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert user(COORD).active
    with pytest.raises(DomainError, match="唯一人员"):
        update_user(user(COORD), display_name="协调员", phone="", unit=user(COORD).unit, roles={Role.MEDIATOR},
                    actor=user("admin"))
    db.session.rollback()
    assert user(COORD).roles == {Role.COORDINATOR}
    # Moved to another town (roles unchanged): refused, said beside the unit, not the roles (QA).
    with pytest.raises(DomainError, match="唯一人员") as refused:
        update_user(user(COORD), display_name="协调员", phone="", unit=unit("320413106"), roles={Role.COORDINATOR},
                    actor=user("admin"))
    assert refused.value.field == "unit"
    db.session.rollback()
    workflow.transition(case, "unrestrict", by=user(COORD), reason="改由站里督办")
    workflow.transition(case, "restrict", by=user(COORD), named_users=[user("admin")], reason="当事人系村干部亲属")
    db.session.commit()
    set_user_active(user(COORD), False, actor=user("admin"))
    db.session.commit()
    assert not user(COORD).active


def test_a_restricted_case_nobody_can_lift_is_listed_and_given_a_supervisor(app, demo):
    """Cases restricted before a supervisor had to be named (here: the coordinator's account
    switched off behind the services' back) are found by ``flask cases restricted-unsupervised``,
    which exits 1 while any remain; ``--name`` names a coordinator or administrator over the
    case's unit, logged, and refuses anyone else."""
    from sqlalchemy import select

    from mediation import access
    from mediation.audit.models import AuditEvent
    from mediation.cases.models import Case

    case = advance(make_case(), "accept", "assign", "start")
    workflow.transition(case, "restrict", by=user(MED), named_users=[user(COORD)], reason="当事人系村干部亲属")
    user(COORD).active = False  # as an old deployment could have left it
    db.session.commit()
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["cases", "restricted-unsupervised"])
    assert listed.exit_code == 1 and case.number in listed.output and "无人能解除限制" in listed.output
    wrong = runner.invoke(args=["cases", "restricted-unsupervised", "--name", "med-320413109202"])
    assert wrong.exit_code == 1 and case.number in wrong.output and "不是" in wrong.output  # says why (QA)
    assert runner.invoke(args=["cases", "restricted-unsupervised", "--name", "nobody"]).exit_code == 2
    station = user("coord-320413106")  # a coordinator of another town: not over this case
    assert runner.invoke(args=["cases", "restricted-unsupervised", "--name", station.username]).exit_code == 1
    assert db.session.scalar(access.cases_query(user("admin")).where(Case.id == case.id)) is None
    named = runner.invoke(args=["cases", "restricted-unsupervised", "--name", "ADMIN"])  # as login reads it
    assert named.exit_code == 0 and "已指定" in named.output, named.output
    db.session.expire_all()
    assert "admin" in {u.username for u in case.named_users}
    assert db.session.scalar(access.cases_query(user("admin")).where(Case.id == case.id)) is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.restricted_named"))
    assert event.target_id == str(case.id)
    from mediation.audit.views import audit_key, audit_value
    with app.test_request_context():  # read in Chinese in the log (QA)
        assert (audit_key("via"), audit_value(event.details["via"], "via")) == ("操作途径", "命令行")
    again = runner.invoke(args=["cases", "restricted-unsupervised"])
    assert again.exit_code == 0 and "每件限制访问的案件都有能解除限制的指定人员" in again.output
