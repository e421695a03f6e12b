"""In Chromium, axe-core (axe-playwright-python) on every role's pages: no WCAG 2.2 A or AA
violation, on a 360-px phone and on a desktop (where the menu is shown, not folded)."""
import pytest
from sqlalchemy import select

from mediation.extensions import db
from mediation.users.models import User

from .test_browser_phone import _pages, field_server, sign_in  # noqa: F401 (field_server: a fixture)

pytestmark = pytest.mark.browser

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
           "resultTypes": ["violations"]}


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options=WCAG_AA).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}" for v in found]


@pytest.mark.parametrize("width", [360, 1280])
def test_no_wcag_aa_violation_on_any_page_of_any_role(field_server, browser, width):  # noqa: F811
    base, app = field_server
    with app.app_context():
        account = db.session.scalar(select(User.id).where(User.username == "med-320413109201"))
    problems: dict[str, list[str]] = {}
    checked = 0
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    problems["/login"] = _violations(page)
    for username, paths in _pages(app).items():
        context.close()
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
        page = context.new_page()
        sign_in(page, base, username)
        # On a desktop the menu is the same on every page: the account's own pages are enough.
        for path in paths if width == 360 else paths[:3]:
            page.goto(base + path)
            problems[f"{username} {path}"] = _violations(page)
            checked += 1
        if username == "admin":  # an account's page, the network tree
            page.goto(f"{base}/users/{account}")
            problems[f"{username} account"] = _violations(page)
            page.goto(f"{base}/units/")
            problems[f"{username} /units/"] = _violations(page)
        page.goto(f"{base}/cases/999999999")  # an error page
        problems[f"{username} 404"] = _violations(page)
    context.close()
    assert checked >= (30 if width == 360 else 15)
    assert not {where: found for where, found in problems.items() if found}


def test_the_menu_folds_below_a_wide_screen_instead_of_wrapping(field_server, browser):  # noqa: F811
    """At 768-1199 px the administrator's eleven entries wrapped a character a line (QA): the menu
    folds behind its button below 1,200 px and stays one line above it."""
    base, _app = field_server
    for width, folded in ((768, True), (1024, True), (1280, False)):
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
        page = context.new_page()
        sign_in(page, base, "admin")
        assert page.locator(".navbar-toggler").is_visible() == folded, width
        assert page.locator("nav.navbar").bounding_box()["height"] < 80, width
        context.close()
