"""In Chromium: the Chinese home page on a phone, and the coordinator's subtree."""
import pytest
from playwright.sync_api import expect

from .browser import log_in

pytestmark = pytest.mark.browser


def test_village_mediator_sees_the_chinese_home_page_on_a_phone(live_server, phone, tmp_path):
    log_in(phone, live_server, "med-320413109201")
    assert phone.locator("h1").inner_text() == "您好，上阳村调解员"
    assert "上阳村（薛埠镇）" in phone.content()
    # No horizontal scrolling at 360 px.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    # The menu folds into the toggler and opens on tap.
    phone.click("button.navbar-toggler")
    phone.get_by_role("link", name="我的案件").click()
    phone.wait_for_url(f"{live_server}/cases/?view=mine")
    assert "我的案件" in phone.locator("h1").inner_text()
    phone.screenshot(path=str(tmp_path / "home.png"))
    # Admin pages are out of reach.
    assert phone.goto(f"{live_server}/users/new").status == 403
    assert "无权访问" in phone.content()


def test_coordinator_sees_only_the_xuebu_subtree(live_server, desktop):
    log_in(desktop, live_server, "coord-320413109")
    desktop.goto(f"{live_server}/units/")
    links = desktop.locator("a[href^='/units/3204']")
    assert links.count() == 25
    text = desktop.locator("main").inner_text()
    assert "薛埠镇" in text and "上阳村" in text and "西旸村" in text
    assert "直溪镇" not in text and "金坛区" not in text
    desktop.locator("summary").first.click()  # the platform folds
    assert desktop.goto(f"{live_server}/units/320413106").status == 404
    assert "未找到" in desktop.content()
    desktop.goto(f"{live_server}/users/")
    assert "med-320413109201" in desktop.content()


def test_failed_login_keeps_the_username_and_says_why(live_server, phone):
    phone.goto(f"{live_server}/login")
    phone.fill("input[name=username]", "med-320413109201")
    phone.fill("input[name=password]", "wrong-password")
    phone.click("button[type=submit]")
    # The click returns once the POST has begun; wait for the answer's text, not content() at once.
    expect(phone.locator("body")).to_contain_text("用户名或密码错误")
    assert phone.input_value("input[name=username]") == "med-320413109201"
