"""In Chromium: a case escalated village → town → station, read by the village to its
outcome; a returned case back at its sender with the reason."""
import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from mediation.extensions import db

from .browser import demo_app, log_in
from .support import skip_or_fail  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_states):
    """The demo network with two cases under mediation at 上阳村; yields (url, app, ids)."""
    path = tmp_path_factory.mktemp("transfers") / "live.sqlite"
    app = demo_app(path, sqlite_states)
    with app.app_context():
        from .factories import advance, make_case

        ids = [advance(make_case(applicant=name), "accept", "assign", "start").id for name in ("汤桂珍", "王秀英")]
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}", app, ids
    srv.shutdown()


@pytest.fixture
def as_user(browser, server):
    contexts = []

    def _open(username):
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, server[0], username)
        return page

    yield _open
    for c in contexts:
        c.close()


def open_inbox_item(page, base, number):
    page.goto(f"{base}/")
    assert page.locator("#nav-unread").count() == 1  # the unread count in the navigation
    page.goto(f"{base}/inbox/")
    page.locator("#inbox-items a", has_text=number).first.click()
    page.wait_for_url(re.compile(r".*/cases/\d+$"))


def test_escalate_accept_escalate_accept_and_read_to_the_outcome(server, as_user):
    base, app, (case_id, _other) = server
    with app.app_context():
        from mediation.cases.models import Case

        number = db.session.get(Case, case_id).number

    med = as_user("med-320413109201")
    med.goto(f"{base}/cases/{case_id}")
    med.locator("#actions").get_by_role("link", name="上报").click()
    med.select_option("select[name=reason_code]", value="safety")
    med.select_option("select[name=urgency]", value="urgent")
    med.fill("textarea[name=note]", "对方多次酒后动手，村里不宜面对面调解")
    med.get_by_role("button", name="上报").click()
    med.wait_for_url(re.compile(r".*/cases/\d+$"))
    assert "待薛埠镇接收" in med.locator("#pending-transfer").inner_text()

    coord = as_user("coord-320413109")
    open_inbox_item(coord, base, number)
    coord.locator("#actions").get_by_role("link", name="接收").click()
    expect(coord.locator("body")).to_contain_text("家暴或安全风险")
    coord.select_option("select[name=lead_mediator]", label="薛埠镇负责人（薛埠镇）")
    coord.get_by_role("button", name="接收").click()
    coord.wait_for_url(re.compile(r".*/cases/\d+$"))
    assert "薛埠镇" in coord.locator("body").inner_text()
    coord.locator("#actions").get_by_role("link", name="上报").click()
    coord.select_option("select[name=reason_code]", value="unsettled")
    coord.get_by_role("button", name="上报").click()
    coord.wait_for_url(re.compile(r".*/cases/\d+$"))

    admin = as_user("admin")
    open_inbox_item(admin, base, number)
    admin.locator("#actions").get_by_role("link", name="接收").click()
    admin.select_option("select[name=lead_mediator]", index=0)
    admin.get_by_role("button", name="接收").click()
    admin.wait_for_url(re.compile(r".*/cases/\d+$"))

    # The village still reads it: no action buttons, and the server refuses an edit.
    med.goto(f"{base}/cases/{case_id}")
    assert med.locator("#read-only").count() == 1 and med.locator("#actions").count() == 0
    assert med.request.get(f"{base}/cases/{case_id}/edit").status == 403
    assert med.request.get(f"{base}/cases/{case_id}/do/conclude").status == 403

    # Settled at the station: the village sees the outcome.
    with app.app_context():
        from mediation.cases.models import Case as C

        from .factories import make_agreement

        make_agreement(db.session.get(C, case_id), by="admin")
    admin.goto(f"{base}/cases/{case_id}/do/conclude")
    admin.select_option("select[name=outcome]", value="success")
    admin.get_by_role("button", name="结束调解").click()
    admin.wait_for_url(re.compile(r".*/cases/\d+$"))
    med.goto(f"{base}/inbox/")
    assert "调解成功" in med.locator("#inbox-items").inner_text()
    med.goto(f"{base}/cases/{case_id}")
    assert "调解成功" in med.locator("body").inner_text()


def test_a_returned_case_comes_back_with_the_reason(server, as_user):
    base, app, (_first, case_id) = server
    med = as_user("med-320413109201")
    med.goto(f"{base}/cases/{case_id}/do/escalate")
    med.select_option("select[name=reason_code]", value="party_request")
    med.get_by_role("button", name="上报").click()
    med.wait_for_url(re.compile(r".*/cases/\d+$"))

    coord = as_user("coord-320413109")
    coord.goto(f"{base}/cases/{case_id}")
    coord.locator("#actions").get_by_role("link", name="退回").click()
    coord.fill("textarea[name=reason]", "双方同村，请村里先组织一次背靠背调解")
    coord.get_by_role("button", name="退回").click()
    coord.wait_for_url(re.compile(r".*/cases/\d+$"))

    med.goto(f"{base}/inbox/")
    assert "双方同村，请村里先组织一次背靠背调解" in med.locator("#inbox-items").inner_text()
    med.locator("#inbox-items a").first.click()
    med.wait_for_url(re.compile(r".*/cases/\d+$"))
    assert med.locator("#actions").count() == 1
    assert "已退回" in med.locator("#transfers").inner_text()
