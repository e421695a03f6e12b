"""Issue 13.2/13.3: a restricted case shows nowhere to those not named for it, and its content
shows nowhere, by whatever route, before a named user gives the opening reason.

The test restricts a case full of marker text and crawls every GET route of the URL map (and
the lists, searches, exports and books with queries) as every kind of demo account."""
import io
import re

from openpyxl import load_workbook
from pypdf import PdfReader

from mediation.cases import workflow
from mediation.extensions import db
from mediation.leads.models import Lead, LeadStatus
from mediation.timeutil import local_today

from .factories import advance, make_case, unit, user, write_entry

MARKERS = ("蔺秘密", "限制标记七七三一", "日记标记四四二")
NAMED = ("coord-320413109", "med-320413109201")  # the restricting coordinator and the case's mediator
NOT_NAMED = ("admin", "med-320413", "stats", "grid-320413109201", "med-320413109202", "coord-320413106")
# The audit log is where station administrators oversee access to restricted cases: it names them.
OVERSIGHT = {"audit.index"}
SKIPPED = {"static", "bootstrap.static", "auth.logout", "main.healthz"}


def _restricted_case():
    case = advance(make_case(applicant=MARKERS[0], summary=f"{MARKERS[1]}：父母为赡养争执。"), "accept", "assign",
                   "start")
    entry = write_entry(case, issues=MARKERS[2])
    lead = Lead(unit=unit("320413109201"), reporter=user("grid-320413109201"), who=MARKERS[0],
                where="上阳村9组", what=MARKERS[1], status=LeadStatus.CONVERTED, case_id=case.id)
    db.session.add(lead)
    workflow.transition(case, "restrict", by=user("coord-320413109"), named_users=[], reason="当事人系村干部亲属")
    db.session.commit()
    return case, entry, lead


def _text(resp) -> str:
    if resp.mimetype == "application/pdf":
        return "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages).replace(" ", "")
    if resp.mimetype and "spreadsheet" in resp.mimetype:
        book = load_workbook(io.BytesIO(resp.data))
        return "\n".join(str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row if c)
    return resp.get_data(as_text=True)


def _urls(app, case, entry, lead):
    ids = {"case_id": case.id, "entry_id": entry.id, "party_id": case.parties[0].id, "screening_id": 1,
           "attachment_id": 1, "code": "320413109201", "user_id": user("med-320413109201").id, "item_id": 1,
           "lead_id": lead.id, "draft_id": 1, "category_id": 1, "teaching_id": 1, "fmt": "csv", "name": "by_month"}
    month = local_today().strftime("%Y-%m")
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint in SKIPPED or "GET" not in rule.methods:
                continue
            values = {a: ids[a] for a in rule.arguments}
            urls.append((rule.endpoint, url_for(rule.endpoint, **values)))
    extra = [f"/cases/?q={MARKERS[0]}", f"/cases/?q={case.number[-6:-1]}", f"/search?q={MARKERS[0]}",
             f"/search?q={MARKERS[1][:2]}", f"/search?q={MARKERS[2][:3]}", "/cases/export.csv", "/cases/export.xlsx",
             f"/diary/?scope=unit&month={month}", f"/diary/book.pdf?scope=unit&month={month}",
             f"/diary/?scope=me&month={month}", f"/diary/book.pdf?scope=me&month={month}",
             "/stats/report.xlsx", "/stats/report.csv", "/cases/?unit=320413109201", "/inbox/", "/leads/", "/"]
    return urls + [("extra", u) for u in extra]


def _crawl(client, urls):
    """(endpoint, url, text) of each page; a typed query's echo ("results for …") is taken out."""
    from urllib.parse import parse_qs, urlsplit

    for endpoint, url in urls:
        resp = client.get(url)
        assert resp.status_code < 500, url
        if resp.status_code == 200:
            text = _text(resp)
            for q in parse_qs(urlsplit(url).query).get("q", []):
                text = text.replace(q, "")
            yield endpoint, url, text


def test_a_restricted_case_shows_nowhere_before_its_reason(app, demo, login):
    case, entry, lead = _restricted_case()
    from mediation.inbox.services import sync_due

    for who in NAMED + NOT_NAMED:  # inbox items that may name the case
        sync_due(user(who))
    db.session.commit()
    urls = _urls(app, case, entry, lead)
    assert len(urls) > 60
    for who in NOT_NAMED:
        for endpoint, url, text in _crawl(login(who), urls):
            if endpoint in OVERSIGHT:
                continue
            assert case.number not in text, (who, url)
            for marker in MARKERS:
                assert marker not in text, (who, url, marker)
    for who in NAMED:
        client = login(who)
        for _endpoint, url, text in _crawl(client, urls):
            for marker in MARKERS:
                assert marker not in text, (who, url, marker)
            if "q=" in url:  # no hit either: a hit would tell what the case contains
                assert case.number not in text, (who, url)
        # The list shows its number, status and unit, nothing it hides; filters on what it hides skip it.
        listed = client.get("/cases/").get_data(as_text=True)
        row = listed.split(case.number)[1].split("</a>")[0]
        assert case.category.name_zh not in row and case.lead_mediator.display_name not in row
        for query in (f"risk={case.risk_level.value}", f"category={case.category_id}",
                      f"from={case.intake_date.isoformat()}"):
            assert case.number not in client.get(f"/cases/?{query}").get_data(as_text=True), query
        # A cursor typed by hand does not find its dates by halving; the home page does not count it overdue.
        from datetime import timedelta

        from mediation.cases.views import LIST_KEYS

        before_its_day = LIST_KEYS["oldest"].encode((case.intake_date - timedelta(days=1), 10**9))
        assert case.number not in client.get(f"/cases/?sort=oldest&after={before_its_day}").get_data(as_text=True)

        def overdue_on_home(client=client) -> str:
            home = client.get("/").get_data(as_text=True)
            return re.search(r'overdue=1"[^>]*>\s*<div class="card-body">\s*<div class="display-6[^"]*">([^<]+)<',
                             home).group(1)

        on_time = overdue_on_home()
        case.due_date = local_today() - timedelta(days=1)
        db.session.commit()
        assert case.number not in client.get("/cases/?sort=due&after=" + LIST_KEYS["due"].encode(
            (local_today() - timedelta(days=9), 10**9))).get_data(as_text=True)
        assert overdue_on_home() == on_time
        case.due_date = None
        db.session.commit()
        # Once the reason is given (and audited), the content is there.
        assert client.post(f"/cases/{case.id}/open", data={"reason": "继续调解"}).status_code == 302
        assert MARKERS[1] in client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert case.number in _text(client.get("/cases/export.xlsx"))
        found = client.get(f"/search?q={MARKERS[2][:3]}").get_data(as_text=True)
        assert re.search(re.escape(case.number), found)
