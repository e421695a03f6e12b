"""In Chromium on a 360×740 phone: a case from intake to archive, and a draft that
survives a closed browser."""
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from .browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def as_user(browser, live_server):
    """as_user(username) -> a fresh phone-sized page, logged in."""
    contexts = []

    def _open(username):
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # confirmations of irreversible steps
        log_in(page, live_server, username)
        return page

    yield _open
    for c in contexts:
        c.close()


def act(page, label):
    """Press an action button on the case page and land back on it."""
    page.locator("#actions").get_by_role("button", name=label).click()
    page.wait_for_load_state()


def record_visit(page):
    """A follow-up visit through the case page's "记录回访"."""
    url = page.url
    page.get_by_role("link", name="记录回访").click()
    # The follow-up's own form: each term of the agreement performed or not (a tap on the label).
    terms = page.locator(".term-finding")
    assert terms.count() >= 1
    for i in range(terms.count()):
        terms.nth(i).get_by_text("已履行", exact=True).click()
    page.select_option("select[name=satisfaction]", value="satisfied")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r".*/cases/\d+(#diary)?$"))
    page.goto(url.split("#")[0])


def screen_parties(page):
    """Each party's safety screening through the form (all "no"), back to the case page."""
    url = page.url
    links = page.locator("#screenings").get_by_role("link", name="筛查", exact=True)
    for i in range(links.count()):
        page.locator("#screenings").get_by_role("link", name="筛查", exact=True).nth(i).click()
        for n in range(1, 17):
            page.check(f"input[name=q{n}][value=no]")
        page.check("input[name=asked_alone]")
        page.get_by_role("button", name="保存筛查").click()
        page.wait_for_url(re.compile(r".*/screening/\d+$"))
        page.goto(url)
    assert page.locator("#screenings").get_by_text("尚未筛查").count() == 0


def test_case_from_intake_to_archive(live_server, as_user):
    med = as_user("med-320413109201")
    med.goto(f"{live_server}/cases/new")
    med.select_option("select[name=category]", label="赡养")
    med.fill("input[name='parties-0-name']", "汤桂珍")
    med.fill("input[name='parties-1-name']", "周国民")
    med.fill("input[name='parties-1-relationship']", "申请人之长子")
    # A third party added in the page, then removed again, loses nothing else.
    med.click("#add-party")
    med.fill("input[name='parties-2-name']", "周国华")
    med.locator(".party-card").nth(2).get_by_role("button", name="删除").click()
    med.fill("textarea[name=summary]", "汤桂珍今年84岁，三个儿子为医药费互相推诿。")
    med.fill("input[name=rights_notice_date]", "2026-11-20")
    med.check("input[name=consent_to_mediate]")
    assert med.evaluate("document.documentElement.scrollWidth") <= 360
    med.get_by_role("button", name="保存", exact=True).click()
    med.wait_for_url(re.compile(r".*/cases/\d+$"))
    case_url = med.url
    number = med.locator("h1").inner_text()
    assert re.fullmatch(r"（\d{4}）金坛婚调字第\d{4}号", number)
    assert "汤桂珍" in med.content() and "周国华" not in med.content()

    coord = as_user("coord-320413109")
    coord.goto(case_url)
    act(coord, "受理")
    coord.locator("#actions").get_by_role("link", name="指派").click()
    coord.select_option("select[name=lead_mediator]", label="上阳村调解员（上阳村）")
    coord.get_by_role("button", name="指派").click()
    coord.wait_for_url(case_url)
    assert "已指派" in coord.content()

    med.goto(case_url)
    screen_parties(med)
    act(med, "开始调解")
    med.get_by_role("link", name="记一笔").click()
    med.fill("input[name=place]", "上阳村村委会")
    med.select_option("select[name=mode]", value="joint")
    med.fill("textarea[name=issues]", "医药费8600元如何分摊")
    med.get_by_role("button", name="保存", exact=True).click()
    med.wait_for_url(re.compile(r".*/cases/\d+(#diary)?$"))
    assert "医药费8600元如何分摊" in med.locator("#diary").inner_text()
    with med.expect_download() as download:
        med.locator("#print-diary").click()
    assert download.value.suggested_filename.endswith("调解日记.pdf")
    pdf_text = "".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert "医药费8600元如何分摊" in re.sub(r"\s+", "", pdf_text)
    med.get_by_role("link", name="记录调解协议").click()
    med.fill("textarea[name='terms-0-content']", "三个儿子每月各给母亲生活费600元。")
    med.fill("input[name='terms-0-method']", "转账")
    med.fill("input[name='terms-0-deadline']", "每月5日前")
    med.fill("textarea[name='terms-1-content']", "已垫付医药费8600元三人平摊。")
    med.get_by_role("button", name="保存", exact=True).click()
    med.wait_for_url(re.compile(r".*/cases/\d+(#agreement)?$"))
    assert "三个儿子每月各给母亲生活费600元" in med.locator("#agreement").inner_text()
    with med.expect_download() as download:
        med.locator("#print-agreement").click()
    assert download.value.suggested_filename.endswith("调解协议书.pdf")
    med.locator("#actions").get_by_role("link", name="结束调解").click()
    med.select_option("select[name=outcome]", value="success")
    med.get_by_role("button", name="结束调解").click()
    med.wait_for_url(case_url)
    act(med, "开始回访")
    record_visit(med)
    act(med, "结案")
    assert "结案" in med.locator("h1 + div").inner_text()

    coord.goto(case_url)
    coord.locator("#actions").get_by_role("link", name="重新开启").click()
    coord.fill("textarea[name=reason]", "回访发现次子未按约给付。")
    coord.get_by_role("button", name="重新开启").click()
    coord.wait_for_url(case_url)

    med.goto(case_url)
    med.locator("#actions").get_by_role("link", name="结束调解").click()
    med.select_option("select[name=outcome]", value="success")
    med.get_by_role("button", name="结束调解").click()
    med.wait_for_url(case_url)
    act(med, "开始回访")
    record_visit(med)
    act(med, "结案")

    coord.goto(case_url)
    act(coord, "归档")
    timeline = coord.locator("#timeline").inner_text()
    steps = ["登记", "受理", "指派", "开始调解", "结束调解", "开始回访", "结案", "重新开启", "归档"]
    for step in steps:
        assert step in timeline, step
    assert timeline.count("上阳村调解员") >= 7 and timeline.count("薛埠镇负责人") >= 4
    assert "回访发现次子未按约给付" in timeline
    assert "归档" in coord.locator("h1 + div").inner_text()

    # Outside the area the case does not exist.
    for outsider in ("med-320413109202", "coord-320413106"):
        page = as_user(outsider)
        assert page.goto(case_url).status == 404
    assert as_user("admin").goto(case_url).status == 200


def test_a_half_typed_intake_survives_a_closed_browser(live_server, browser, as_user):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, "med-320413109201")
    page.goto(f"{live_server}/cases/new")
    page.fill("input[name='parties-0-name']", "李秀英")
    page.fill("textarea[name=summary]", "女儿出嫁后不肯出赡养费，写到一半")
    # A locator assertion, not wait_for_function: the page's CSP forbids evaluating strings.
    expect(page.locator("#draft-status")).to_contain_text("已自动保存", timeout=15000)
    # Out of signal, the note is the page's own words, not the browser's "Failed to fetch" (QA).
    context.set_offline(True)
    page.fill("textarea[name=summary]", "女儿出嫁后不肯出赡养费，写到一半，没信号")
    expect(page.locator("#draft-status")).to_contain_text("未能保存", timeout=15000)
    assert "Failed" not in page.locator("#draft-status").inner_text()
    context.set_offline(False)
    expect(page.locator("#draft-status")).to_contain_text("已自动保存", timeout=15000)
    context.close()  # the browser is closed without submitting

    again = as_user("med-320413109201")
    again.goto(f"{live_server}/cases/drafts/")
    assert "李秀英" in again.content()
    again.get_by_role("link", name="继续填写").first.click()
    assert again.input_value("input[name='parties-0-name']") == "李秀英"
    assert "写到一半" in again.input_value("textarea[name=summary]")
