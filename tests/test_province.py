"""Many districts in one deployment: a province and its cities above the districts' 1+9+X
networks. Their users see the network and the statistics, never a case; inside a district
the three-tier rules (escalation, scope, numbering per station) are as before."""
import csv
import io

from sqlalchemy import func, select

from mediation import access
from mediation.cases import workflow
from mediation.demo import network_csv
from mediation.extensions import db
from mediation.generate import jiangsu_csv
from mediation.org.models import OrgUnit, Tier
from mediation.org.services import import_network, parse_network_csv
from mediation.stats import aggregates, services
from mediation.timeutil import local_today
from mediation.transfers.models import EscalationReason
from mediation.transfers.services import escalation_targets
from mediation.users.models import Role
from mediation.users.services import create_user

from .factories import advance, category, make_case, unit, user

PASSWORD = "province-test-1"


def _province() -> None:
    """江苏省 > 常州市 > 金坛区 (its real network) and 武进区 (one town, one village) > ..."""
    rows = list(csv.reader(io.StringIO(network_csv().decode("utf-8-sig"))))
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["code", "name", "tier", "parent_code"])
    w.writerows([["32", "江苏省", "province", ""], ["3204", "常州市", "city", "32"]])
    for code, name, tier, parent, *_rest in rows[1:]:
        w.writerow([code, name, tier, parent or "3204"])
    w.writerows([["320412", "武进区", "station", "3204"], ["320412100", "湖塘镇", "platform", "320412"],
                 ["320412100201", "生成村01", "village", "320412100"]])
    import_network(out.getvalue().encode())
    from mediation.cases.categories import seed_categories

    seed_categories()
    people = [("admin", "320413", {Role.ADMIN}), ("coord-320413109", "320413109", {Role.COORDINATOR}),
              ("med-320413109201", "320413109201", {Role.MEDIATOR}), ("med-320413", "320413", {Role.MEDIATOR}),
              ("med-320412100201", "320412100201", {Role.MEDIATOR}),
              ("stats-32", "32", {Role.VIEWER}), ("admin-32", "32", {Role.ADMIN, Role.COORDINATOR, Role.MEDIATOR}),
              ("stats-3204", "3204", {Role.VIEWER})]
    for username, code, roles in people:
        create_user(username=username, display_name=username, unit=unit(code), roles=roles, password=PASSWORD)
    db.session.commit()


def _login(app, username):
    c = app.test_client()
    assert c.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return c


def test_province_users_see_statistics_and_units_never_a_case(app):
    _province()
    case = make_case(intake_date=local_today().replace(day=1))
    advance(case, "accept", by="admin")
    for username in ("stats-32", "admin-32", "stats-3204"):
        c = _login(app, username)
        assert c.get("/stats/").status_code == 200
        assert c.get("/stats/?unit=320413").status_code == 200
        assert c.get("/units/").status_code == 200
        assert c.get(f"/cases/{case.id}").status_code == 404
        assert case.number not in c.get("/cases/").get_data(as_text=True)
        u = user(username)
        assert not access.can(u, "case.view") and not access.can(u, "lead.view")
        assert db.session.scalar(select(func.count()).select_from(access.cases_query(u).subquery())) == 0
    assert access.can(user("admin-32"), "unit.manage") and access.can(user("admin-32"), "user.manage")
    # The case counts at the province and the city (the aggregates roll up above the station).
    year = services.Period.year(case.intake_date.year)
    for code in ("32", "3204", "320413"):
        assert services.compute(unit(code), year).summary()["registered"] == 1
        assert services.compute(unit(code), year).summary()["accepted"] == 1
    assert [u.name for u, _s in services.compute(unit("32"), year).child_rows()[1:]] == ["常州市"]
    assert aggregates.mismatches(db.session.connection()) == []


def test_every_menu_entry_opens_for_the_users_above_the_districts(app):
    """The menu follows what the pages allow: a province's administrator has no cases, leads,
    diary book, categories or log, so no menu entry leading to a 404 or 403 (QA)."""
    import re

    _province()
    for username in ("admin-32", "stats-32", "stats-3204", "admin", "med-320413109201"):
        c = _login(app, username)
        menu = c.get("/").get_data(as_text=True).split('id="mainnav"', 1)[1].split("</div>", 1)[0]
        links = re.findall(r'href="([^"]+)"', menu)
        assert links, username
        for href in links:
            assert c.get(href.replace("&amp;", "&")).status_code == 200, (username, href)
        if username == "admin-32":
            assert "/cases/" not in links and "/leads/" not in links and "/audit/" not in links
            assert "/users/" in links and "/units/" in links and "/stats/" in links


def test_a_province_administrator_cannot_make_themselves_a_case_reader(app):
    """Moving one's own account down to a district, or giving it other roles, would turn
    "never a case" into a form to fill in: another administrator has to do it (audited)."""
    _province()
    case = make_case()
    me = user("admin-32")
    c = _login(app, "admin-32")
    page = c.get(f"/users/{me.id}/edit").get_data(as_text=True)
    stamp = page.split('name="stamp"')[1].split('value="')[1].split('"')[0]
    form = {"display_name": "admin-32", "phone": "", "stamp": stamp, "roles": ["admin", "mediator"]}
    moved = c.post(f"/users/{me.id}/edit", data={**form, "unit": str(unit("320413").id)})
    assert moved.status_code == 200 and "不能调动自己的账号" in moved.get_data(as_text=True)
    more = c.post(f"/users/{me.id}/edit", data={**form, "unit": str(me.unit_id), "roles": ["admin", "viewer"]})
    assert "不能修改自己的角色" in more.get_data(as_text=True)
    db.session.expire_all()
    assert user("admin-32").unit.code == "32" and c.get(f"/cases/{case.id}").status_code == 404
    # Their name and phone stay theirs to change; another administrator may move them.
    renamed = c.post(f"/users/{me.id}/edit", data={**form, "display_name": "省妇联管理员", "unit": str(me.unit_id),
                                                     "roles": ["admin", "coordinator", "mediator"]})
    assert renamed.status_code == 302 and user("admin-32").display_name == "省妇联管理员"


def test_a_station_reads_its_own_districts_log_and_reviews_its_own_teaching_cases(app):
    """Two districts: 金坛's station administrator neither reads what 武进's people did (the log
    names cases and keeps the reasons typed to open restricted ones) nor reads or decides
    武进's teaching submissions, which may still name someone until approved."""
    from mediation.teaching.models import TeachingCase, TeachingStatus

    _province()
    create_user(username="admin-320412", display_name="武进管理员", unit=unit("320412"), roles={Role.ADMIN},
                password=PASSWORD)
    db.session.commit()
    _login(app, "med-320412100201")  # a login: an event of 武进's
    submitted = TeachingCase(category_id=category().id, title="武进的教学案例", facts="甲乙离婚",
                             legal_point="民法典第一千零七十九条", status=TeachingStatus.SUBMITTED,
                             author_id=user("med-320412100201").id)
    db.session.add(submitted)
    db.session.commit()
    jintan, wujin = _login(app, "admin"), _login(app, "admin-320412")
    log = jintan.get("/audit/").get_data(as_text=True)
    assert "med-320412100201" not in log and "admin-320412" not in log and ">admin<" in log
    assert "med-320412100201" in wujin.get("/audit/").get_data(as_text=True)
    # A password reset from the province is in the district's log, not in the other district's.
    target = user("med-320412100201")
    assert _login(app, "admin-32").post(f"/users/{target.id}/reset").status_code == 200
    query = f"/audit/?target_type=user&target_id={target.id}"
    assert "admin-32" in wujin.get(query).get_data(as_text=True)
    assert "admin-32" not in jintan.get(query).get_data(as_text=True)
    assert "武进的教学案例" not in jintan.get("/teaching/?view=review").get_data(as_text=True)
    assert jintan.get(f"/teaching/{submitted.id}").status_code == 404
    assert jintan.post(f"/teaching/{submitted.id}/approve").status_code == 404
    db.session.expire_all()
    assert db.session.get(TeachingCase, submitted.id).status is TeachingStatus.SUBMITTED
    assert "武进的教学案例" in wujin.get("/teaching/?view=review").get_data(as_text=True)
    assert wujin.get(f"/teaching/{submitted.id}").status_code == 200


def test_a_person_moved_to_another_district_leaves_their_events_in_the_first(app):
    """The log keeps where its actor worked: what a mediator did in 武进 (the cases it names,
    the reasons typed) stays in 武进's log after they move to 金坛, and what they do in 金坛
    is 金坛's."""
    from mediation.audit.models import AuditEvent
    from mediation.users.services import update_user

    _province()
    create_user(username="admin-320412", display_name="武进管理员", unit=unit("320412"), roles={Role.ADMIN},
                password=PASSWORD)
    db.session.commit()
    mover = user("med-320412100201")
    _login(app, mover.username)  # in 武进
    update_user(mover, display_name=mover.display_name, phone="", unit=unit("320413109201"),
                roles={Role.MEDIATOR}, actor=user("admin-32"))
    db.session.commit()
    _login(app, mover.username)  # in 金坛 now
    logins = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "login", AuditEvent.actor_id == mover.id).order_by(AuditEvent.id)))
    assert [e.actor_unit_id for e in logins] == [unit("320412100201").id, unit("320413109201").id]
    jintan, wujin = _login(app, "admin"), _login(app, "admin-320412")

    def rows(client) -> int:
        page = client.get(f"/audit/?action=login&user={mover.username}").get_data(as_text=True)
        return page.count('<li class="border-bottom py-2">')

    assert (rows(wujin), rows(jintan)) == (1, 1)
    # An event written before the log kept the actor's unit goes by where its actor works now.
    from types import SimpleNamespace

    from mediation.audit.services import record

    with app.test_request_context():
        record("login", actor=SimpleNamespace(id=mover.id, username=mover.username))
        db.session.commit()
    assert (rows(wujin), rows(jintan)) == (1, 2)
    # What 武进's administrator did to the account while it was 武进's stays 武进's; what the
    # province did to it is the district's it is in now (attack review: the reset showed in 金坛).
    with app.test_request_context():
        record("admin.user_reset", actor=user("admin-320412"), target=mover, details={"when": "before"})
        db.session.commit()
    moved_back = mover.unit_id
    update_user(mover, display_name=mover.display_name, phone="", unit=unit("320412100201"),
                roles={Role.MEDIATOR}, actor=user("admin-32"))
    db.session.commit()
    with app.test_request_context():
        record("admin.user_reset", actor=user("admin-320412"), target=mover, details={"when": "in wujin"})
        db.session.commit()
    update_user(mover, display_name=mover.display_name, phone="", unit=db.session.get(OrgUnit, moved_back),
                roles={Role.MEDIATOR}, actor=user("admin-32"))
    db.session.commit()
    with app.test_request_context():
        record("admin.user_reset", actor=user("admin-32"), target=mover, details={"when": "from above"})
        db.session.commit()
    log = jintan.get(f"/audit/?target_type=user&target_id={mover.id}").get_data(as_text=True)
    assert "in wujin" not in log and "from above" in log
    assert "in wujin" in wujin.get(f"/audit/?target_type=user&target_id={mover.id}").get_data(as_text=True)


def test_above_the_districts_the_account_form_lists_units_down_to_the_towns(app):
    """Some 24,000 villages would be 2 MB of options: a village comes with its own page's
    "new account here" (or as posted), and a district's administrator still picks any."""
    _province()
    village, town = unit("320413109201"), unit("320413109")
    c = _login(app, "admin-32")
    form = c.get("/users/new").get_data(as_text=True)
    assert f'value="{town.id}"' in form and f'value="{village.id}"' not in form
    assert "此处不列出村（社区）" in form
    chosen = c.get(f"/users/new?unit={village.code}").get_data(as_text=True)
    assert f'<option selected value="{village.id}">' in chosen
    data = {"username": "med-new-1", "display_name": "新调解员", "phone": "", "unit": str(village.id),
            "roles": ["mediator"], "password": "Willow-bank-2026"}
    assert c.post("/users/new", data=data).status_code == 302
    assert user("med-new-1").unit_id == village.id
    other = unit("320413109202")
    other.active = False
    db.session.commit()
    refused = c.post("/users/new", data={**data, "username": "med-new-2", "unit": str(other.id)})
    assert refused.status_code == 200 and user("med-new-2") is None
    edit = c.get(f"/users/{user('med-new-1').id}/edit").get_data(as_text=True)
    assert f'<option selected value="{village.id}">' in edit  # the account's own village stays its choice
    assert f'value="{unit("320413109203").id}"' in _login(app, "admin").get("/users/new").get_data(as_text=True)


def test_above_the_districts_the_statistics_picker_lists_districts_and_the_chosen_ones_towns(app):
    """1,600 towns would be a picker nobody scrolls: the districts, then the towns of the district
    being looked at; a village chosen by its code stays chosen; a district's own people see all."""
    _province()
    c = _login(app, "admin-32")

    def options(path):
        page = c.get(path).get_data(as_text=True)
        return page.split('id="stats-unit"')[1].split("</select>")[0]

    own = options("/stats/")
    assert 'value="320413"' in own and 'value="320412"' in own and 'value="320413109"' not in own
    district = options("/stats/?unit=320413")
    assert 'value="320413109"' in district and 'value="320412100"' not in district
    assert 'value="320413109201"' not in district
    village = options("/stats/report?unit=320413109201")
    assert 'value="320413109201" selected' in village and 'value="320413109"' in village
    assert 'value="320413109202"' not in village
    assert 'value="320413109201"' in _login(app, "admin").get("/stats/").get_data(as_text=True)
    # Headings name the units between (Jiangsu has two 鼓楼区), for the district as before (QA).
    assert 'id="stats-unit-name">金坛区（常州市）<' in c.get("/stats/?unit=320413").get_data(as_text=True)
    assert "· 薛埠镇（常州市金坛区） ·" in c.get("/stats/report?unit=320413109").get_data(as_text=True)
    assert 'id="stats-unit-name">上阳村（薛埠镇）<' in _login(app, "admin").get("/stats/?unit=320413109201") \
        .get_data(as_text=True)


def _count_queries(client, pages) -> dict[str, tuple[int, int]]:
    from sqlalchemy import event

    seen = []

    def count(*_args):
        seen.append(1)

    out = {}
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for page in pages:
            client.get(page)  # warm
            seen.clear()
            out[page] = (client.get(page).status_code, len(seen))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return out


def test_above_the_districts_the_network_and_zero_reports_are_told_by_district(app):
    """A province has some 24,000 villages: its network page stops at the districts (each
    district's page goes on), and its monthly report counts the villages' confirmations
    district by district, with the totals of the districts' own reports, in as many queries
    however many villages there are."""
    _province()
    month = services.add_months(services.month_start(local_today()), -1)
    make_case(intake_date=month)  # 320413109201 has a case in the month
    services.confirm_month(unit("320413109201"), month, by=user("med-320413109201"))  # reported
    services.confirm_month(unit("320413109202"), month, by=user("med-320413109201"))  # no disputes
    services.confirm_month(unit("320412100201"), month, by=user("med-320412100201"))  # no disputes...
    db.session.commit()
    make_case(by="med-320412100201", intake_date=month)  # ...and then a case after all: reported
    jintan = services.reporting_status(unit("320413"), month)
    n = jintan.villages
    assert (jintan.n_reported, jintan.n_none, jintan.n_missing) == (1, 1, n - 2) and n > 100
    province = services.reporting_status(unit("32"), month)
    assert [(st.code, *counts) for st, *counts in province.districts] == [
        ("320412", 1, 1, 0, 0), ("320413", n, 1, 1, n - 2)]
    assert (province.villages, province.n_reported, province.n_none, province.n_missing) == (n + 1, 2, 1, n - 2)
    assert province.missing == [] and province.with_cases == []  # no village named one by one

    c = _login(app, "admin-32")
    args = f"month={month:%Y-%m}"
    page = c.get(f"/stats/report?{args}").get_data(as_text=True)
    assert 'id="report-districts"' in page and 'id="report-missing"' not in page
    assert f'data-villages="{n + 1}" data-missing="{n - 2}" data-none="1" data-reported="2"' in page
    assert unit("320413109203").name not in page
    # With its city: Jiangsu has two 鼓楼区.
    assert "武进区（常州市）,1,1,0,0" in c.get(f"/stats/report.csv?{args}").get_data(as_text=True)
    district = c.get(f"/stats/report?unit=320413&{args}").get_data(as_text=True)
    assert 'id="report-missing"' in district and unit("320413109203").name in district

    network = c.get("/units/").get_data(as_text=True)
    towns = db.session.scalar(select(func.count()).select_from(OrgUnit).where(
        OrgUnit.parent_id == unit("320413").id))
    assert "金坛区" in network and "武进区" in network and unit("320413109").name not in network
    assert f'unit-below">· 下辖 {towns} 个</span>' in network  # the district's page goes on
    assert f" {n + 1}" in network.split('id="tier-totals"')[1].split("</p>")[0]  # every village counted
    assert unit("320413109201").name in _login(app, "admin").get("/units/").get_data(as_text=True)
    # A village moves within its district only: its page offers that district's towns, not 1,486.
    village_page = c.get("/units/320413109201").get_data(as_text=True)
    assert f'value="{unit("320413106").id}"' in village_page and f'value="{unit("320412100").id}"' not in village_page

    pages = ["/units/", "/stats/", f"/stats/?period=month&{args}", f"/stats/report?{args}",
             f"/stats/report.csv?{args}", f"/stats/report.pdf?{args}"]
    readers = {who: _login(app, who) for who in ("admin-32", "stats-3204")}
    pages_of = {"admin-32": [*pages, "/users/", "/users/?role=mediator", "/units/320413109201"],
                "stats-3204": pages}
    before = {who: _count_queries(client, pages_of[who]) for who, client in readers.items()}
    # Another district of 3 towns and 60 villages, a third of them confirming.
    rows = ["code,name,tier,parent_code", "320411,新北区,station,3204"]
    for t in range(1, 4):
        rows.append(f"320411{t:03d},新北{t}镇,platform,320411")
        rows += [f"320411{t:03d}{v:03d},新北{t}镇{v}村,village,320411{t:03d}" for v in range(1, 21)]
    import_network("\n".join(rows).encode())
    for t in range(1, 4):
        for v in range(1, 21, 3):
            services.confirm_month(unit(f"320411{t:03d}{v:03d}"), month, by=user("med-320412100201"))
    db.session.commit()
    after = {who: _count_queries(client, pages_of[who]) for who, client in readers.items()}
    for who in readers:
        assert all(status == 200 and queries <= 10 for status, queries in before[who].values()), (who, before[who])
        assert after[who] == before[who]


def test_escalation_stops_at_the_station_and_numbers_are_per_station(app):
    _province()
    case = make_case()
    assert case.number.startswith("（2026）常州金坛婚调字第0001号")
    assert [u.code for u in escalation_targets(case)] == ["320413109", "320413"]
    advance(case, "accept", "assign", by="coord-320413109")
    workflow.transition(case, "escalate", by=user("med-320413109201"), to_unit=unit("320413109"),
                        reason_code=EscalationReason.UNSETTLED, reason_text="", urgency=None, note="")
    db.session.commit()
    workflow.transition(case, "receive", by=user("coord-320413109"), lead_mediator=user("coord-320413109"),
                        co_mediators=[], note="")
    db.session.commit()
    workflow.transition(case, "escalate", by=user("coord-320413109"), to_unit=unit("320413"),
                        reason_code=EscalationReason.UNSETTLED, reason_text="", urgency=None, note="")
    db.session.commit()
    workflow.transition(case, "receive", by=user("admin"), lead_mediator=user("med-320413"), co_mediators=[],
                        note="")
    db.session.commit()
    assert case.unit.code == "320413"
    # At the station the case goes no higher: no escalation offered, a city refused.
    assert escalation_targets(case) == []
    assert "escalate" not in {t.name for t in workflow.allowed(case, user("admin"))}
    try:
        workflow.transition(case, "escalate", by=user("admin"), to_unit=unit("3204"),
                            reason_code=EscalationReason.UNSETTLED, reason_text="", urgency=None, note="")
    except workflow.WorkflowError:
        pass
    else:
        raise AssertionError("escalated above the station")
    db.session.rollback()
    # Another district numbers its own cases from 1, with its own prefix.
    other = make_case(by="med-320412100201")
    assert other.number == "（2026）常州武进婚调字第0001号" and other.station_id == unit("320412").id
    assert unit("320412100201").station.code == "320412" and unit("3204").station is None


def test_the_divisions_file_imports_as_a_province(app, runner, tmp_path):
    from importlib.resources import files

    path = tmp_path / "jiangsu.csv"
    path.write_bytes(files("mediation").joinpath("data/jiangsu_divisions.csv").read_bytes())
    result = runner.invoke(args=["network", "import", str(path)])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    tiers = dict(db.session.execute(select(OrgUnit.tier, func.count()).group_by(OrgUnit.tier)).all())
    assert tiers == {Tier.PROVINCE: 1, Tier.CITY: 13, Tier.STATION: 104, Tier.PLATFORM: 1487}
    jintan = unit("320413")
    assert jintan.parent.name == "常州市" and jintan.parent.parent.name == "江苏省"
    assert jintan.path == f"/{jintan.parent.parent.id}/{jintan.parent.id}/{jintan.id}/"


def test_the_generated_province_network():
    from flask import Flask

    with Flask(__name__).app_context():
        rows = parse_network_csv(jiangsu_csv(seed=1))
    count = {t: sum(1 for r in rows if r.tier is t) for t in Tier}
    assert count[Tier.PROVINCE] == 1 and count[Tier.CITY] == 13 and count[Tier.STATION] == 104
    # 金坛区's 9 platforms replace its 10 statistical towns; its 131 real villages are kept.
    assert count[Tier.PLATFORM] == 1487 - 10 + 9
    villages = [r for r in rows if r.tier is Tier.VILLAGE]
    generated = [r for r in villages if r.name.startswith("生成村")]
    assert len(villages) - len(generated) == 131
    assert all(r.code.startswith(r.parent_code) and len(r.code) == 12 for r in generated)
    per_town = {}
    for r in generated:
        per_town[r.parent_code] = per_town.get(r.parent_code, 0) + 1
    assert min(per_town.values()) >= 8 and max(per_town.values()) <= 25
