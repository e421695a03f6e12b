"""The statistics' aggregates (stat_cell) equal a recount from the raw rows after a random
sequence of operations through the services (registration, edits, every step of the
workflow including reopen, escalation received and returned, referrals, follow-up visits),
on SQLite and PostgreSQL; ``stats rebuild`` and the migration's backfill count the same."""
import random
from datetime import date, timedelta
from decimal import Decimal

from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, select, text

from mediation import ROOT
from mediation.cases import services as case_services
from mediation.cases import workflow
from mediation.cases.models import CaseStatus, Category, Outcome
from mediation.diary.models import EntryKind, Performance, Satisfaction
from mediation.extensions import db
from mediation.stats import aggregates, services
from mediation.stats.models import stat_cell
from mediation.timeutil import local_today
from mediation.transfers.models import EscalationReason, ReferralDestination

from .conftest import make_app
from .factories import advance, make_case, unit, user, write_entry

V1, TOWN = "med-320413109201", "coord-320413109"


def _edit(case, rng):
    """An edit through the service: category, intake date and amount (all counted)."""
    cats = list(db.session.scalars(select(Category.id)))
    values = {f: getattr(case, f) for f in case_services.CASE_FIELDS}
    values.update(category_id=rng.choice(cats), intake_date=case.intake_date - timedelta(days=rng.randint(0, 40)),
                  amount_in_dispute=Decimal(rng.randint(0, 90000)) / 100, people_involved=rng.choice([2, 6, 12, 40]))
    parties = [{f: getattr(p, f) for f in case_services.PARTY_FIELDS} for p in case.parties]
    case_services.update_case(case, values=values, parties=parties, by=user(TOWN), expected_version=case.version)


def _step(case, rng) -> str | None:
    """One operation that the case's state allows, chosen at random; its name."""
    s = case.status
    town_held = case.unit.code == "320413109"
    at_station = case.unit.code == "320413"
    holder_staff = TOWN if town_held else V1
    up = [] if at_station else ["escalate"]
    options = []
    if s is CaseStatus.REGISTERED:
        options += ["accept", "decline", *up]
    if s is CaseStatus.ACCEPTED:
        options += ["assign"]
    if s is CaseStatus.ASSIGNED:
        options += ["start", "refer", *up]
    if s is CaseStatus.IN_MEDIATION:
        options += ["conclude", "refer", *up]
    if s is CaseStatus.PENDING:
        options += ["receive", "return"]
    if s is CaseStatus.CONCLUDED:
        options += ["follow_up" if case.outcome in workflow.SETTLED else "close", "reopen"]
    if s is CaseStatus.FOLLOW_UP:
        options += ["visit", "close"]
    if s is CaseStatus.CLOSED:
        options += ["reopen", "archive"]
    if s in workflow.EDITABLE_STATUSES:
        options.append("edit")
    if not options:
        return None
    op = rng.choice(options)
    if op == "edit":
        _edit(case, rng)
    elif op == "escalate":
        workflow.transition(case, "escalate", by=user(holder_staff), to_unit=unit("320413") if town_held
                            else unit("320413109"), reason_code=EscalationReason.UNSETTLED, reason_text="",
                            urgency=None, note="")
    elif op == "receive":
        to = case.pending_transfer.to_unit
        boss = "admin" if to.code == "320413" else TOWN
        workflow.transition(case, "receive", by=user(boss), lead_mediator=user(boss), co_mediators=[], note="")
    elif op == "return":
        to = case.pending_transfer.to_unit
        workflow.transition(case, "return", by=user("admin" if to.code == "320413" else TOWN), reason="不属本级")
    elif op == "refer":
        workflow.transition(case, "refer", by=user(TOWN), destination=ReferralDestination.LEGAL_AID,
                            destination_name="", referred_on=local_today() - timedelta(days=rng.randint(0, 3)),
                            reference="", note="", end_case=rng.random() < 0.3, told_other_routes=True)
    elif op == "conclude":
        if town_held or case.unit.code == "320413" or rng.random() < 0.4:
            workflow.transition(case, "conclude", by=user("admin" if case.unit.code == "320413" else TOWN),
                                outcome=rng.choice([Outcome.FAILED, Outcome.TERMINATED]), told_other_routes=True)
        else:
            advance(case, "conclude", by=V1)
    elif op == "visit":
        write_entry(case, by=case.lead_mediator.username, kind=EntryKind.FOLLOW_UP, mode=None,
                    performance=Performance.PERFORMED, satisfaction=rng.choice(list(Satisfaction)))
    else:
        by = "admin" if case.unit.code == "320413" else TOWN
        if op == "close" and s is CaseStatus.FOLLOW_UP:
            by = case.lead_mediator.username
        advance(case, op, by=by)
    db.session.commit()
    return op


def _figures_agree(roots, periods):
    for root in roots:
        for period in periods:
            fast, raw = services.compute(root, period), services.recount(root, period)
            assert {k: v for k, v in fast.cells.items() if v} == {k: v for k, v in raw.cells.items() if v}, \
                (root.code, period)


def test_aggregates_equal_a_recount_after_random_operations(demo, app, runner):
    rng = random.Random(12)
    today = local_today()
    cases = []
    done = []
    for i in range(90):
        if len(cases) < 5 or rng.random() < 0.06:
            by = V1 if rng.random() < 0.8 else TOWN
            cases.append(make_case(by=by, intake_date=today - timedelta(days=rng.randint(0, 70)),
                                   amount_in_dispute=Decimal("1200.50") if i % 3 else None,
                                   people_involved=rng.choice([2, 5, 11, 30]), is_major=i % 7 == 0))
            done.append("register")
            continue
        case = rng.choice(cases)
        op = _step(case, rng)
        if op:
            done.append(op)
        if i % 13 == 12:
            assert aggregates.mismatches(db.session.connection()) == []
    # The sequence did exercise what the figures are sensitive to.
    assert {"reopen", "receive", "escalate", "edit", "conclude"} <= set(done), done
    assert aggregates.mismatches(db.session.connection()) == []
    first = date(today.year, today.month, 1)
    periods = [services.Period.year(today.year), services.Period.month(today.year, today.month),
               services.Period.custom(first - timedelta(days=40), today - timedelta(days=3)),
               services.Period.custom(today - timedelta(days=5), today)]
    _figures_agree([unit("320413"), unit("320413109"), unit("320413109201")], periods)

    # `stats rebuild` writes the same rows, without the rows brought back to zero.
    before = aggregates.table_rows(db.session.connection())
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert aggregates.table_rows(db.session.connection()) == before
    assert runner.invoke(args=["stats", "rebuild", "--check"]).exit_code == 0
    # A tampered row is found by the check.
    db.session.execute(stat_cell.update().where(stat_cell.c.grain == "m").values(registered=stat_cell.c.registered + 1))
    db.session.commit()
    assert runner.invoke(args=["stats", "rebuild", "--check"]).exit_code == 1


def test_the_migration_backfills_the_aggregates(db_url):
    app = make_app(db_url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        from mediation.demo import load_demo

        load_demo(scenarios=True)
        db.session.commit()
        want = aggregates.recount_rows(db.session.connection())
        assert want and aggregates.table_rows(db.session.connection()) == want
        db.session.execute(delete(stat_cell))
        db.session.commit()
        db.session.remove()
        # Down to just before the stat_cells migration (later ones sit on top of it), then up again.
        script = ScriptDirectory(str(ROOT / "migrations"))
        downgrade(directory=str(ROOT / "migrations"), revision=script.get_revision("a7c3e9f1d2b4").down_revision)
        upgrade(directory=str(ROOT / "migrations"))
        assert aggregates.table_rows(db.session.connection()) == want
        db.session.remove()
        if db.engine.dialect.name != "sqlite":  # the PostgreSQL database is shared by the session's tests
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
