"""The inbox reflects the case (issue 14.3) and an emergency lead reaches people now (14.4)."""
import re
import sys
import types
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from mediation.agreements import services as agreements
from mediation.agreements.models import Confirmation
from mediation.cases import workflow
from mediation.cases.models import Case, RiskLevel
from mediation.diary import services as diary
from mediation.diary.models import DiaryEntry, EntryKind, Performance, SessionMode
from mediation.extensions import db
from mediation.inbox import services as inbox
from mediation.inbox.models import Notification
from mediation.leads.models import Lead
from mediation.timeutil import clock_at, local_date_of, local_today, utc_start_of, utcnow
from mediation.transfers.models import EscalationReason, ReferralDestination, Urgency

from .factories import advance, make_agreement, make_case, unit, user, write_entry
from .support import DEMO_PASSWORD

MED, COORD, GRID = "med-320413109201", "coord-320413109", "grid-320413109201"


def items(username, kind=None):
    db.session.rollback()
    stmt = select(Notification).where(Notification.user_id == user(username).id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def open_items(username, kind=None):
    return [n for n in items(username, kind) if n.read_at is None]


# --- 14.3 -------------------------------------------------------------------------------------

def test_an_accepted_escalation_leaves_every_receivers_open_list_marked_done_by_who(demo, login):
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    workflow.transition(case, "escalate", by=user(MED), to_unit=unit("320413109"),
                        reason_code=EscalationReason.SAFETY, urgency=Urgency.URGENT)
    db.session.commit()
    assert open_items(COORD, "transfer_in")
    workflow.transition(case, "receive", by=user("admin"), lead_mediator=user(COORD), co_mediators=[])
    db.session.commit()
    (item,) = items(COORD, "transfer_in")
    assert item.read_at is not None and item.done_at is not None and item.done_by.username == "admin"
    page = login(COORD).get("/inbox/").get_data(as_text=True)
    assert "已处理" in page and user("admin").display_name in page


def test_a_planned_session_that_happened_and_a_followed_up_visit_are_done(demo):
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    write_entry(case, next_date=local_today() + timedelta(days=2), next_step="再次背靠背调解")
    inbox.sync_due(user(MED))
    db.session.commit()
    assert open_items(MED, "planned")
    write_entry(case, kind=EntryKind.CALL, mode=None, result="电话约了周五")  # the session was held
    (planned,) = items(MED, "planned")
    assert planned.done_at is not None and planned.done_by.username == MED
    inbox.sync_due(user(MED))  # the new entry plans nothing: nothing comes back
    db.session.commit()
    assert not open_items(MED, "planned")


def test_safety_advice_acted_on_and_items_of_a_closed_case_leave_the_open_list(demo):
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    case.risk_level = RiskLevel.ORANGE
    db.session.commit()
    inbox.sync_due(user(MED))
    db.session.commit()
    assert [n.params["reason"] for n in open_items(MED, "escalation_advised")] == ["risk"]
    workflow.transition(case, "refer", by=user(MED), destination=ReferralDestination.SHELTER,
                        referred_on=local_today())
    db.session.commit()
    (advice,) = items(MED, "escalation_advised")
    assert advice.done_at is not None and advice.done_by.username == MED
    # The overdue notice goes when the mediation ends; everything else on the case once it is closed.
    case.due_date = local_today() - timedelta(days=1)
    case.risk_level = RiskLevel.NONE
    db.session.commit()
    inbox.sync_due(user(MED))
    db.session.commit()
    assert open_items(MED, "overdue")
    advance(case, "conclude", by=COORD)
    assert not open_items(MED, "overdue")
    advance(case, "follow_up", by=COORD)
    write_entry(case, kind=EntryKind.FOLLOW_UP, mode=None, performance=Performance.PERFORMED)
    assert [n for n in open_items(MED) if n.case_id == case.id]  # e.g. "assigned", still unread
    advance(case, "close", by=COORD)
    on_case = [n for n in items(MED) if n.case_id == case.id]
    assert on_case and all(n.read_at and n.done_at for n in on_case)


def _cases_read_by_a_look(username) -> list[int]:
    """Look for things coming due as ``username``, from a fresh session: the cases it read."""
    db.session.commit()
    db.session.expunge_all()
    read = []

    def on_load(case, _context):
        read.append(case.id)

    sa.event.listen(Case, "load", on_load)
    try:
        inbox.sync_due(user(username))
        db.session.commit()
    finally:
        sa.event.remove(Case, "load", on_load)
    return read


def test_a_later_look_reads_what_came_due_since_not_the_whole_caseload(demo, login):
    """Issue 12: every look read the person's whole open and settled caseload (1.9 s and 35 MB
    for a generated mediator with 5,100 cases). Now the second look of the day reads only the
    case that came due since, and still finds it."""
    old = []
    for _ in range(6):
        case = advance(make_case(), "accept", "assign", "start", by=COORD)
        case.due_date = local_today() - timedelta(days=20)
        case.updated_at = utcnow() - timedelta(days=20)
        old.append(case.id)
    settled = advance(make_case(), "accept", "assign", "start", by=COORD)
    agreement = make_agreement(settled)
    advance(settled, "conclude", "follow_up", by=COORD)
    agreement.reached_on = local_today() - timedelta(days=200)
    settled.concluded_at = settled.updated_at = utcnow() - timedelta(days=200)
    db.session.commit()
    first = _cases_read_by_a_look(MED)
    assert set(old) <= set(first)  # a first look reads back INBOX_SYNC_LOOKBACK_DAYS
    assert sorted(n.case_id for n in open_items(MED, "overdue")) == sorted(old)
    assert local_date_of(user(MED).inbox_synced_at) == local_today()
    assert _cases_read_by_a_look(MED) == []  # nothing came due since
    late = advance(make_case(), "accept", "assign", "start", by=COORD)
    late.due_date = local_today() - timedelta(days=1)
    late_id = late.id
    assert _cases_read_by_a_look(MED) == [late_id]
    assert late_id in [n.case_id for n in open_items(MED, "overdue")]


def test_a_daily_look_reads_plans_and_follow_up_visits_that_came_into_view_since(demo, login):
    """Issue 12: every look read each case with a session planned within the week and each
    settled case with a follow-up visit in its window (seconds for a generated mediator with
    2,000 items due in a week). A look the day after reads only those that came into view
    since: a plan whose day entered the week, a visit now 3 days ahead, a case handed over."""
    def planned_case(days_ahead):
        case = advance(make_case(), "accept", "assign", "start", by=COORD)
        entry = write_entry(case, next_date=local_today() + timedelta(days=days_ahead),
                            next_step=f"第{days_ahead}天再谈")
        entry.created_at = entry.updated_at = case.updated_at = utcnow() - timedelta(days=20)
        return case

    known = planned_case(3)  # already in view yesterday
    entering = planned_case(6)  # was 7 days ahead yesterday: entered the week since
    handed = planned_case(2)

    def settled_case(days_ago):
        case = advance(make_case(), "accept", "assign", "start", by=COORD)
        make_agreement(case)
        advance(case, "conclude", "follow_up", by=COORD)
        case.concluded_at = case.updated_at = utcnow() - timedelta(days=days_ago)
        return case

    visit = settled_case(27)  # the 30-day visit is 3 days ahead: in view since today
    old_visit = settled_case(32)  # in view for five days
    db.session.commit()
    ids = {c: c.id for c in (known, entering, handed, visit, old_visit)}
    first = _cases_read_by_a_look(MED)
    assert set(ids.values()) <= set(first)
    planned = {n.case_id for n in open_items(MED, "planned")}
    assert {ids[known], ids[entering], ids[handed]} <= planned
    assert {ids[visit], ids[old_visit]} <= {n.case_id for n in open_items(MED, "follow_up_due")}
    # The next day: yesterday's look saw the known plan and the visit; the entering plan is new.
    db.session.execute(sa.update(Notification).where(Notification.key.like("planned:%"),
                                                     Notification.case_id == ids[entering])
                       .execution_options(synchronize_session=False).values(key="gone"))
    db.session.execute(sa.delete(Notification).where(Notification.case_id.in_([ids[handed], ids[visit]]),
                                                     Notification.kind.in_(["planned", "follow_up_due"])))
    me = user(MED)
    me.inbox_synced_at = utcnow() - timedelta(days=1)
    db.session.get(Case, ids[handed]).updated_at = utcnow()  # e.g. a new lead mediator today
    db.session.commit()
    read = _cases_read_by_a_look(MED)
    assert ids[known] not in read and ids[old_visit] not in read  # in view before the last look
    assert {ids[entering], ids[handed], ids[visit]} <= set(read)
    planned = {n.case_id for n in open_items(MED, "planned")}
    assert ids[entering] in planned and ids[handed] in planned
    assert ids[visit] in {n.case_id for n in open_items(MED, "follow_up_due")}


def test_a_later_look_the_same_day_reads_only_what_changed_since_that_look(demo, login, at_noon):
    """A look remembers its time, not only its day: one an hour after a look reads nothing that
    changed before it (it read from the day before: every case touched in two days)."""
    late = advance(make_case(), "accept", "assign", "start", by=COORD)
    late.due_date = local_today() - timedelta(days=1)
    late.updated_at = utcnow() - timedelta(days=20)
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    entry = write_entry(case, next_date=local_today() + timedelta(days=2), next_step="再谈一次")
    entry.created_at = entry.updated_at = case.updated_at = utcnow() - timedelta(hours=2)
    me = user(MED)
    me.inbox_synced_at = utcnow() - timedelta(days=1, hours=3)  # looked yesterday
    case_id, late_id = case.id, late.id
    assert {case_id, late_id} <= set(_cases_read_by_a_look(MED))
    assert case_id in {n.case_id for n in open_items(MED, "planned")}
    assert late_id in {n.case_id for n in open_items(MED, "overdue")}
    # Looked an hour ago, after the session was written; nothing has fallen due on a day since.
    user(MED).inbox_synced_at = utcnow() - timedelta(hours=1)
    assert _cases_read_by_a_look(MED) == []


def _aged(case_id, **ago):
    """The case and its diary as last changed ``ago`` (the look reads what changed since)."""
    at = utcnow() - timedelta(**ago)
    db.session.execute(sa.update(Case).where(Case.id == case_id).values(updated_at=at))
    db.session.execute(sa.update(DiaryEntry).where(DiaryEntry.case_id == case_id).values(created_at=at, updated_at=at))
    db.session.commit()


@pytest.fixture
def at_noon(app):
    """The clock at local noon: hours "ago" stay on the same local day whenever the tests run
    (an entry can be edited only on the day it was written)."""
    with clock_at(utc_start_of(local_today()) + timedelta(hours=12)):
        yield


def _quiet_look_then_aged(case_id, kind, changed: timedelta, *, looked: timedelta):
    """A look that finds no ``kind`` item; then the case as last changed ``changed`` ago and
    the last look as ``looked`` ago (after that change)."""
    inbox.sync_due(user(MED))
    db.session.commit()
    assert not items(MED, kind)
    _aged(case_id, seconds=changed.total_seconds())
    user(MED).inbox_synced_at = utcnow() - looked
    db.session.commit()


def test_a_look_reads_an_entry_edited_into_a_session_and_a_confirmation_set_back(demo, login, at_noon):
    """Found in review: the third attempt recorded as a call and edited into a session, and a
    judicial confirmation set back to "not applied", change neither the case nor a date in
    view; the look still finds the escalation advice and the reminder."""
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    write_entry(case)
    write_entry(case)
    third = write_entry(case, kind=EntryKind.CALL, mode=None)
    case_id, entry_id = case.id, third.id
    _quiet_look_then_aged(case_id, "escalation_advised", timedelta(hours=2), looked=timedelta(hours=1))
    entry = db.session.get(DiaryEntry, entry_id)
    values = {f: getattr(entry, f) for f in diary.FIELDS} | {"kind": EntryKind.SESSION, "mode": SessionMode.JOINT}
    diary.edit_entry(entry, db.session.get(Case, case_id), by=user(MED), values=values)
    db.session.commit()
    assert case_id in _cases_read_by_a_look(MED)
    assert [n.params["reason"] for n in items(MED, "escalation_advised")] == ["attempts"]

    today = local_today()
    settled = advance(make_case(), "accept", "assign", "start", by=COORD)
    agreement = make_agreement(settled, reached_on=today - timedelta(days=25))
    agreements.update_confirmation(settled, agreement, by=user(MED), status=Confirmation.APPLIED,
                                   applied_on=today - timedelta(days=24), decided_on=None, court="金坛区人民法院",
                                   note="")
    advance(settled, "conclude", by=COORD)
    settled_id = settled.id
    _quiet_look_then_aged(settled_id, "confirmation_due", timedelta(days=2), looked=timedelta(days=1))
    settled = db.session.get(Case, settled_id)
    agreements.update_confirmation(settled, agreements.agreement_of(settled), by=user(MED),
                                   status=Confirmation.NOT_APPLIED, applied_on=None, decided_on=None, court="",
                                   note="")
    db.session.commit()
    assert settled_id in _cases_read_by_a_look(MED)
    assert [n.case_id for n in items(MED, "confirmation_due")] == [settled_id]


def test_a_mediator_moved_to_another_unit_gets_a_full_look(demo, login):
    """The cases the new unit holds came into the person's view all at once: the next look
    reads back INBOX_SYNC_LOOKBACK_DAYS, not what changed since the last one."""
    from mediation.users import services as users

    me = user(MED)
    me.inbox_synced_at = utcnow()
    users.update_user(me, display_name=me.display_name, phone=me.phone or "", unit=me.unit, roles=me.roles,
                      actor=user("admin"))
    assert me.inbox_synced_at is not None  # the same unit: nothing to read again
    users.update_user(me, display_name=me.display_name, phone=me.phone or "", unit=unit("320413109202"),
                      roles=me.roles, actor=user("admin"))
    db.session.commit()
    assert user(MED).inbox_synced_at is None


def test_a_long_look_goes_a_batch_at_a_time_and_misses_nothing(demo, login, monkeypatch):
    """A first look after an absence read every case due in 60 days at once (a 25 MB peak in a
    worker for the densest generated mediator at 1,000,000 cases): it now holds SYNC_BATCH
    cases at a time, and still finds every item."""
    monkeypatch.setattr(inbox, "SYNC_BATCH", 2)
    late = []
    for days in range(1, 6):
        case = advance(make_case(), "accept", "assign", "start", by=COORD)
        case.due_date = local_today() - timedelta(days=days)
        late.append(case.id)
    planned = advance(make_case(), "accept", "assign", "start", by=COORD)
    write_entry(planned, next_date=local_today() + timedelta(days=1), next_step="再谈")
    planned_id = planned.id
    read = _cases_read_by_a_look(MED)
    assert set(late) | {planned_id} <= set(read)
    assert set(late) <= {n.case_id for n in open_items(MED, "overdue")}
    assert planned_id in {n.case_id for n in open_items(MED, "planned")}


def test_the_inbox_page_keeps_the_day_of_the_last_look(demo, login):
    assert user(MED).inbox_synced_at is None
    assert login(MED).get("/inbox/").status_code == 200
    db.session.rollback()
    assert local_date_of(user(MED).inbox_synced_at) == local_today()


# --- 14.4 -------------------------------------------------------------------------------------

def report(client, urgency="emergency", who="王家夫妻"):
    page = client.get("/leads/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    return client.post("/leads/new", data={"who": who, "where": "3组12号", "what": "男方喝酒后动手",
                                           "urgency": urgency, "submission_key": key})


@pytest.fixture
def channel(app):
    """A recording notification channel (where an SMS gateway would plug in)."""
    sent = []

    class Recorder:
        def send(self, user, message):
            sent.append((user.username, message.kind, message.priority))

    module = types.ModuleType("field_channel")
    module.Recorder = Recorder
    sys.modules["field_channel"] = module
    app.config["NOTIFY_CHANNELS"] = ("field_channel.Recorder",)
    yield sent
    del sys.modules["field_channel"]


def test_an_emergency_lead_goes_at_once_to_the_village_mediators_and_the_town_coordinator(demo, login, channel):
    grid = login(GRID)
    assert report(grid, "normal", who="张家").status_code == 302
    assert report(grid).status_code == 302
    assert (MED, "lead_new", 2) in channel and (COORD, "lead_new", 2) in channel
    assert not [s for s in channel if s[0] in ("med-320413109202", "coord-320413106", GRID)]
    assert len([s for s in channel if s[1] == "lead_new"]) == len({s[0] for s in channel})  # the normal one: none
    lead = db.session.scalar(select(Lead).where(Lead.who == "王家夫妻"))
    for username in (MED, COORD):
        page = login(username).get("/inbox/").get_data(as_text=True)
        first = page.split('id="inbox-items"', 1)[1].split("</a>", 1)[0]
        assert "危急" in first and "inbox-priority" in first and "上阳村" in first
        item = open_items(username, "lead_new")[0]
        resp = login(username).get(f"/inbox/{item.id}")
        assert resp.headers["Location"].endswith(f"/leads/#lead-{lead.id}")


def test_urgent_items_stand_above_newer_ordinary_ones(demo, login):
    report(login(GRID), "urgent")
    case = advance(make_case(), "accept", by=COORD)
    advance(case, "assign", by=COORD)  # a newer, ordinary item for the mediator
    kinds = [n.kind for n in inbox.inbox_of(user(MED))]
    assert kinds[0] == "lead_new" and "assigned" in kinds


def test_the_grid_worker_hears_when_the_lead_is_registered_or_dismissed(demo, login):
    grid = login(GRID)
    report(grid)
    report(grid, "urgent", who="李家")
    first, second = db.session.scalars(select(Lead).order_by(Lead.id)).all()
    med = login(MED)
    from .test_cases import intake

    page = med.get(f"/cases/new?lead={first.id}").get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    assert med.post("/cases/new", data={**intake(), "lead_id": str(first.id), "submission_key": key}
                    ).status_code == 302
    assert med.post(f"/leads/{second.id}/dismiss", data={"reason": "已和好，无需调解"}).status_code == 302
    (registered,) = items(GRID, "lead_registered")
    (dismissed,) = items(GRID, "lead_dismissed")
    page = grid.get("/inbox/").get_data(as_text=True)
    assert "登记" in page and "已和好，无需调解" in page
    # Which lead, by the day it was reported; 立案 is the court's word (QA).
    reported = f"{local_today().year}年{local_today().month}月{local_today().day}日"
    assert f"您{reported}上报的线索已由" in page and "排除：已和好" in page and "立案" not in page
    assert grid.get(f"/inbox/{registered.id}").headers["Location"].endswith(f"/leads/#lead-{first.id}")
    # Those who were told of the leads: done, by the mediator who handled them.
    for n in items(COORD, "lead_new"):
        assert n.done_at is not None and n.done_by.username == MED


def _new_leads_on_home(client) -> int:
    page = client.get("/").get_data(as_text=True)
    return int(re.search(r'href="/leads/">\s*<div class="card-body">\s*<div class="display-6[^"]*">(\d+)<', page)
               .group(1))


def _new_leads_listed(client) -> int:
    page = client.get("/leads/").get_data(as_text=True)
    return len(re.findall(r'<span class="badge text-bg-primary">待处理</span>', page))


def test_home_counts_and_the_list_of_leads_agree_for_every_role(demo, login, app):
    report(login(GRID))
    report(login("grid-320413109202"), "urgent", who="薛埠村李家")
    report(login("grid-320413106005"), "normal", who="直溪某家")
    for username in ("med-320413109201", "med-320413109202", "coord-320413109", "med-320413", "admin",
                     "coord-320413106"):
        client = login(username)
        assert _new_leads_on_home(client) == _new_leads_listed(client), username
    assert _new_leads_on_home(login(COORD)) == 2
    # A grid worker's home is the report form; the list shows its own leads.
    grid = login(GRID)
    assert grid.get("/").status_code == 302
    assert _new_leads_listed(grid) == 1
    assert DEMO_PASSWORD


def _home_tile(client, label: str) -> int:
    page = client.get("/").get_data(as_text=True)
    m = re.search(r'<div class="display-6[^"]*">([\d,+]+)</div>\s*<div>' + re.escape(label) + "</div>", page)
    return int(m.group(1).rstrip("+").replace(",", ""))


def test_my_open_cases_on_home_count_lead_and_co_mediated_open_cases_only(demo, login, app):
    """我的在办 (read by index since issue 12): open cases the user leads or co-mediates,
    not closed ones, the same number the list behind the tile shows."""
    me, other = user("med-320413109201"), user("med-320413109202")
    led = advance(make_case(applicant="甲一"), "accept", "assign")
    co = advance(make_case(applicant="乙二"), "accept", "assign", lead_mediator=other, co_mediators=[me])
    advance(make_case(applicant="丙三"), "accept", "assign", lead_mediator=other)  # not mine
    ended = advance(make_case(applicant="丁四"), "accept", "assign", "start", "conclude", "follow_up", "close")
    client = login("med-320413109201")
    listed = client.get("/cases/?view=mine&open=1").get_data(as_text=True)
    assert led.number in listed and co.number in listed and ended.number not in listed
    shown = _home_tile(client, "我在办的案件")
    assert shown == len(set(re.findall(r"婚调字第\d{4}号", listed))) >= 2
    # Co-mediation ends with the case: closed, it leaves the count.
    advance(co, "start", "conclude", "follow_up", "close", by="coord-320413109")
    assert _home_tile(client, "我在办的案件") == shown - 1


def test_my_open_cases_are_found_by_index_not_by_scanning(demo, app):
    """The plan of 我的在办's count searches indexes: no table is read whole (SQLite's plan)."""
    from mediation.cases.services import home_count_queries
    from mediation.paging import bounded_count

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan is read from SQLite's EXPLAIN QUERY PLAN")
    stmt = select(bounded_count(home_count_queries(user("med-320413109201"))["mine_open"]))
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = [row[3] for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql))]
    scans = [step for step in plan if step.startswith("SCAN") and "anon" not in step and "CONSTANT" not in step
             and "case_access" not in step]
    assert scans == [], plan


def test_to_accept_and_to_assign_are_on_the_home_of_those_who_do_it(demo, login, app):
    """A station's mediator cannot accept or assign (its station has administrators): the
    tiles led to cases it could only read (QA). A coordinator, and a village mediator whose
    village has no coordinator, keep them."""
    make_case()  # registered in 上阳村, waiting to be accepted
    for username, shown in (("med-320413", False), ("coord-320413109", True), ("med-320413109201", True),
                            ("admin", True)):
        page = login(username).get("/").get_data(as_text=True)
        assert ("待受理" in page) is shown and ("待指派" in page) is shown, username
    assert _home_tile(login(COORD), "待受理") == 1
