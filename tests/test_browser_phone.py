"""In Chromium on a 360-px phone (issue 14, "a day in the field"): every tap target of every page
each role reaches is at least 44 × 44 CSS px; a form's errors come all at once in a summary the
page scrolls to, each linked to its field, which stays clear of the sticky bar; a pasted ID
number is not cut short. The app carries the demo's 24 cases, so that pages show what they
show in use (lists, timelines, follow-ups, inbox items, statistics)."""
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from mediation import create_app
from mediation.extensions import db


def sign_in(page, base: str, username: str) -> None:
    """Log in and land wherever the account's home is (a grid worker's is the lead form)."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "jintan-demo")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/login" not in page.url, username

pytestmark = pytest.mark.browser

# Every element a finger presses: links, buttons, boxes; a check box or radio button is
# measured by its label when the label covers it (a tap on the label ticks it).
MEASURE = """() => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const shown = (el) => {
    const cs = getComputedStyle(el);
    if (cs.visibility === "hidden" || cs.display === "none" || el.getClientRects().length === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const small = [];
  for (const el of document.querySelectorAll("a[href], button, input, select, textarea, summary")) {
    if (el.type === "hidden" || el.closest("template, [hidden], .visually-hidden") || !shown(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.type === "checkbox" || el.type === "radio") {
      const label = el.closest("label") || (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]'));
      if (label) {
        const l = label.getBoundingClientRect();
        const x = box.left + box.width / 2, y = box.top + box.height / 2;
        if (x >= l.left && x <= l.right && y >= l.top && y <= l.bottom) box = l;
      }
    }
    if (box.width < 43.5 || box.height < 43.5) {
      small.push(el.tagName.toLowerCase() + (el.type ? "[" + el.type + "]" : "") + " '" +
                 (el.innerText || el.value || el.name || el.getAttribute("href") || "").trim().slice(0, 24) + "' " +
                 Math.round(box.width) + "x" + Math.round(box.height));
    }
  }
  return {small: small, wide: document.documentElement.scrollWidth};
}"""

# Not pages: downloads, exports, actions that change something, the other language.
SKIP = re.compile(r"\.(pdf|csv|xlsx|svg)$|/logout|/export|/download|/thumbnail|/language|/attachments/\d+")


@pytest.fixture(scope="module")
def field_server(tmp_path_factory):
    """The app with the demo network and its 24 cases on a real SQLite file, on a free port."""
    path: Path = tmp_path_factory.mktemp("field") / "field.sqlite"
    app = create_app({"SECRET_KEY": "browser-test", "DATABASE_URL": f"sqlite:///{path}",
                      "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
                      "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("field-uploads"))})
    with app.app_context():
        from mediation.demo import load_demo

        db.create_all()
        load_demo(scenarios=True)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()


def _pages(app) -> dict[str, list[str]]:
    """The pages to measure, per account: the intake, lead, diary, follow-up, screening,
    agreement and case pages by name, and then whatever the account's links lead to."""
    from mediation.cases.models import Case, CaseStatus

    with app.app_context():
        def one(*statuses):
            return db.session.scalar(select(Case).where(Case.status.in_(statuses)).order_by(Case.id))

        working = one(CaseStatus.IN_MEDIATION)
        visiting = one(CaseStatus.FOLLOW_UP)
        mediator = working.lead_mediator.username
        visitor = visiting.lead_mediator.username
        coordinator = f"coord-{working.unit.code[:9]}" if working.unit.tier.value == "village" else "admin"
        party = working.parties[0].id
        return {
            mediator: ["/", "/cases/new", f"/cases/{working.id}", f"/cases/{working.id}/diary/new",
                       f"/cases/{working.id}/screening/new?party={party}", f"/cases/{working.id}/agreement/",
                       f"/cases/{working.id}/do/conclude", "/diary/", "/inbox/", "/leads/", "/search?q=儿子"],
            visitor: [f"/cases/{visiting.id}", f"/cases/{visiting.id}/diary/new?kind=follow_up"],
            coordinator: ["/", f"/cases/{working.id}", f"/cases/{working.id}/do/reassign", "/cases/", "/stats/",
                          "/stats/report", "/units/", "/users/", "/leads/", "/account/password"],
            "grid-320413109201": ["/leads/new", "/leads/"],
            "admin": ["/audit/", "/users/new", "/cases/categories/", "/units/320413109"],
            "stats": ["/stats/", "/stats/report"],
        }


def _pattern(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def test_every_tap_target_is_44_px_on_every_page_of_every_role(field_server, browser):
    base, app = field_server
    problems: dict[str, list[str]] = {}
    measured = 0
    for username, start in _pages(app).items():
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        page = context.new_page()
        sign_in(page, base, username)
        queue, seen = list(start), {_pattern(p) for p in start}
        crawled = 0
        while queue and crawled < 8 + len(start):
            path = queue.pop(0)
            page.goto(base + path)
            crawled += 1
            result = page.evaluate(MEASURE)
            measured += 1
            if result["small"] or result["wide"] > 360:
                problems[f"{username} {path}"] = result["small"] + ([f"scrolls sideways: {result['wide']}px"]
                                                                  if result["wide"] > 360 else [])
            # Then whatever the page links to, one page of each kind.
            for href in page.eval_on_selector_all("main a[href], nav a[href]", "els => els.map(e => e.href)"):
                parts = urlsplit(href)
                if parts.netloc != urlsplit(base).netloc or SKIP.search(parts.path):
                    continue
                link = parts.path + (f"?{parts.query}" if parts.query else "")
                if _pattern(parts.path) not in seen:
                    seen.add(_pattern(parts.path))
                    queue.append(link)
        context.close()
    assert measured >= 40
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_a_form_shows_every_error_at_once_at_its_top_and_leads_to_each_field(field_server, browser):
    """The diary form used to report one problem per submit, below the fold."""
    from datetime import timedelta

    from mediation.cases.models import Case, CaseStatus
    from mediation.timeutil import local_today

    base, app = field_server
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.status == CaseStatus.IN_MEDIATION).order_by(Case.id))
        username, case_id = case.lead_mediator.username, case.id
        ahead = (local_today() + timedelta(days=2)).isoformat()
    # Reduced motion: Bootstrap's smooth scrolling off, so that positions are final when read.
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", reduced_motion="reduce")
    page = context.new_page()
    sign_in(page, base, username)
    page.goto(f"{base}/cases/{case_id}/diary/new")
    page.fill("input[name=occurred_on]", ahead)
    page.fill("input[name=duration_minutes]", "0")
    page.fill("input[name=place]", "村委会😢")
    page.select_option("select[name=mode]", "")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    links = summary.locator("a")
    texts = links.all_inner_texts()
    assert len(texts) >= 4, texts  # the date, the duration, the emoji and the missing way it was held, at once
    assert any("不能晚于今天" in t for t in texts) and any("U+1F622" in t for t in texts)
    # The page went to the summary: it is on screen.
    box = summary.bounding_box()
    assert 0 <= box["y"] < 740
    # A tap on an error goes to its field, puts the cursor there, and the field is not under the sticky bar.
    summary.get_by_role("link", name=re.compile("时长")).click()
    assert page.evaluate("() => document.activeElement.name") == "duration_minutes"
    field = page.locator("input[name=duration_minutes]").bounding_box()
    bar = page.locator(".sticky-actions").bounding_box()
    assert field["y"] >= 0 and field["y"] + field["height"] <= bar["y"], (field, bar)
    # Brought into view the least possible (as a browser does for the field it moves to), a field
    # below stops above the bar, not under it.
    under = []
    for name in ("mode", "issues", "proposals", "result", "next_step", "next_date"):
        page.evaluate("() => window.scrollTo(0, 0)")
        where = page.evaluate("""(name) => {
          const el = document.querySelector('[name="' + name + '"]');
          el.scrollIntoView({block: "nearest"});
          return [name, el.getBoundingClientRect().bottom,
                  document.querySelector(".sticky-actions").getBoundingClientRect().top];
        }""", name)
        if where[1] > where[2] + 1:
            under.append(where)
    assert under == []
    context.close()


def test_a_pasted_id_number_with_spaces_is_not_cut_short(field_server, browser):
    base, _app = field_server
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    phone = context.new_page()
    sign_in(phone, base, "med-320413109201")
    phone.goto(f"{base}/cases/new")
    box = phone.locator("input[name='parties-0-id_number']")
    box.press_sequentially("320482 19850302 3018")
    assert box.input_value() == "320482 19850302 3018"
    assert phone.locator("input[name='parties-0-phone']").get_attribute("inputmode") == "tel"
    context.close()
