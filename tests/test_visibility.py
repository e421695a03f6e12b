"""Issue 12.3: case_visibility, the access rule kept ahead, equals a recount after any
sequence of operations, and ``cases_query`` answers what the rule itself answers."""
import random
from datetime import timedelta

import pytest
from sqlalchemy import or_, select

from mediation import access, visibility
from mediation.cases import workflow
from mediation.cases.models import Case, CaseStatus, CaseVisibility, case_access
from mediation.errors import DomainError
from mediation.extensions import db
from mediation.org.models import OrgUnit, Tier
from mediation.org.services import move_village
from mediation.timeutil import local_today
from mediation.transfers.models import CaseHolding, Delegation, EscalationReason, Transfer, TransferStatus, Urgency
from mediation.users.models import User

from .factories import advance, make_case, unit, user

TOWNS = ("320413109", "320413106")
VILLAGES = ("320413109201", "320413109202", "320413106005")


def rule(viewer) -> set[int]:
    """The access rule as written before the table (the four subqueries): the oracle."""
    if "case.view" not in access.actions_of(viewer):
        return set()
    units = access.visible_units(viewer)
    named = or_(Case.restricted.is_(False),
                Case.id.in_(select(case_access.c.case_id).where(case_access.c.user_id == viewer.id)))
    return set(db.session.scalars(select(Case.id).where(named, or_(
        Case.unit_id.in_(units),
        Case.id.in_(select(CaseHolding.case_id).where(CaseHolding.unit_id.in_(units))),
        Case.id.in_(select(Transfer.case_id).where(Transfer.status == TransferStatus.PENDING,
                                                   Transfer.to_unit_id.in_(units))),
        Case.id.in_(select(Delegation.case_id).where(Delegation.unit_id.in_(units))),
    ))))


def held_rule(viewer) -> set[int]:
    units = set(db.session.scalars(access.visible_units(viewer)))
    return {c.id for c in db.session.scalars(select(Case).where(Case.id.in_(rule(viewer)))) if c.unit_id in units}


def assert_table_is_the_rule(viewers) -> None:
    assert visibility.differences(db.session.connection()) == (set(), set())
    for viewer in viewers:
        assert set(db.session.scalars(access.cases_query(viewer).with_only_columns(Case.id))) == rule(viewer), \
            viewer.username
        assert set(db.session.scalars(access.held_cases_query(viewer).with_only_columns(Case.id))) == \
            held_rule(viewer), viewer.username


def _viewers():
    names = ["admin", "med-320413", "stats", *[f"coord-{t}" for t in TOWNS], *[f"med-{v}" for v in VILLAGES],
             "grid-320413109201"]
    return [user(n) for n in names]


def _manager(case):
    from mediation.inbox.services import unit_managers

    return unit_managers(case.unit)[0]


def _step(rnd: random.Random, cases: list[Case]) -> str:
    """One random operation that may change who sees a case (refused ones change nothing)."""
    op = rnd.choice(["register", "register", "register", "up", "up", "up", "receive", "receive", "return",
                     "withdraw", "down", "delegate", "restrict", "unrestrict", "edit", "accept", "accept", "move"])
    if op == "register" or not cases:
        cases.append(make_case(by=f"med-{rnd.choice(VILLAGES)}", intake_date=local_today() - timedelta(
            days=rnd.randrange(400))))
        return "register"
    case = rnd.choice(cases)
    db.session.refresh(case)
    done = _act(rnd, op, case)
    db.session.commit()
    return done


def _act(rnd: random.Random, op: str, case: Case) -> str:
    boss = _manager(case)
    if op == "up":
        above = [u for u in case.unit.ancestors() if u.active]
        data = {"to_unit": rnd.choice(above) if above else None, "reason_code": EscalationReason.UNSETTLED,
                "urgency": Urgency.NORMAL}
        workflow.transition(case, "escalate", by=case.lead_mediator or boss, **data)
    elif op in ("receive", "return"):
        pending = case.pending_transfer
        if pending is None:
            return ""
        from mediation.inbox.services import unit_managers

        receiver = unit_managers(pending.to_unit)[0]
        if op == "receive":
            workflow.transition(case, "receive", by=receiver, lead_mediator=receiver, co_mediators=[], note="")
        else:
            workflow.transition(case, "return", by=receiver, reason="请继续调解")
    elif op == "withdraw":
        pending = case.pending_transfer
        if pending is None:
            return ""
        workflow.transition(case, "withdraw", by=db.session.get(User, pending.created_by_id))
    elif op == "down":
        below = [u for u in case.unit.children if u.active]
        if not below:
            return ""
        workflow.transition(case, "hand_down", by=boss, to_unit=rnd.choice(below),
                            reason_code=EscalationReason.LOCAL_FOLLOW_UP, urgency=Urgency.NORMAL)
    elif op == "delegate":
        places = [h.unit for h in case.holdings if h.unit_id != case.unit_id] + list(case.unit.children)
        if not places:  # a case held by a town, which may send a visit to its villages
            case = make_case(by=f"coord-{rnd.choice(TOWNS)}")
            places = list(case.unit.children)
            boss = _manager(case)
        if case.status in (CaseStatus.REGISTERED, CaseStatus.ACCEPTED):
            _act(rnd, "accept", case)
        workflow.transition(case, "delegate", by=boss, to_unit=rnd.choice(places), instruction="回访",
                            due_date=local_today() + timedelta(days=7))
    elif op == "restrict":
        workflow.transition(case, "restrict", by=user("admin"), named_users=[boss], reason="当事人系村干部亲属")
    elif op == "unrestrict":
        workflow.transition(case, "unrestrict", by=user("admin"), reason="已无必要")
    elif op == "accept":
        if case.status is CaseStatus.REGISTERED:
            advance(case, "accept", by=boss.username)
        mediator = db.session.scalars(access.mediator_candidates(case.unit)).first()
        workflow.transition(case, "assign", by=boss, lead_mediator=mediator, co_mediators=[])
    elif op == "edit":
        case.intake_date = case.intake_date - timedelta(days=rnd.randrange(1, 30))
    elif op == "move":  # a village goes to another town, with every case it saw
        village = unit(rnd.choice(VILLAGES))
        towns = [unit(t) for t in TOWNS if unit(t).id != village.parent_id]
        move_village(village, towns[0])
    return op


@pytest.mark.parametrize("seed", [1, 2])
def test_the_table_equals_a_recount_after_random_operations(demo, seed):
    rnd = random.Random(seed)
    cases: list[Case] = []
    viewers = _viewers()
    done: set[str] = set()
    for i in range(60):
        try:
            done.add(_step(rnd, cases))
        except (DomainError, workflow.WorkflowError):
            db.session.rollback()  # refused: changes nothing
        if i % 15 == 14:
            assert_table_is_the_rule(viewers)
    assert_table_is_the_rule(viewers)
    # The sequence went through the moves that change who sees a case.
    assert {"register", "up", "receive", "restrict", "delegate", "move"} <= done, done


def test_a_rolled_back_change_leaves_the_table_as_it_was(demo):
    case = make_case()
    before = set(db.session.execute(select(CaseVisibility.unit_id, CaseVisibility.held)
                                    .where(CaseVisibility.case_id == case.id)))
    assert {u for u, _h in before} == {unit("320413109201").id, unit("320413109").id, unit("320413").id}
    workflow.transition(case, "escalate", by=user("med-320413109201"), to_unit=unit("320413"),
                        reason_code=EscalationReason.SAFETY, urgency=Urgency.NORMAL)
    db.session.flush()
    assert db.session.scalar(select(CaseVisibility.status).where(CaseVisibility.case_id == case.id).limit(1)) \
        is CaseStatus.PENDING
    db.session.rollback()
    after = set(db.session.execute(select(CaseVisibility.unit_id, CaseVisibility.held)
                                   .where(CaseVisibility.case_id == case.id)))
    assert after == before
    assert visibility.differences(db.session.connection()) == (set(), set())


def test_units_above_a_station_see_no_case(demo):
    """A city or province unit over the station (issue 12.2) gets no row: its users never
    see case content, whatever their roles."""
    station = unit("320413")
    city = OrgUnit(code="320400", name="常州市", tier=Tier.STATION, path="")
    db.session.add(city)
    db.session.flush()
    city.path = f"/{city.id}/"
    station.parent = city
    db.session.flush()
    from mediation.org.services import rebuild_paths

    rebuild_paths()
    db.session.flush()
    case = make_case()
    rows = set(db.session.scalars(select(CaseVisibility.unit_id).where(CaseVisibility.case_id == case.id)))
    assert station.id in rows and city.id not in rows
    assert visibility.differences(db.session.connection()) == (set(), set())


def test_rebuild_command_and_check(demo, runner):
    make_case()
    db.session.execute(CaseVisibility.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["cases", "rebuild-visibility", "--check"])
    assert result.exit_code == 1
    result = runner.invoke(args=["cases", "rebuild-visibility"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["cases", "rebuild-visibility", "--check"])
    assert result.exit_code == 0, result.output
