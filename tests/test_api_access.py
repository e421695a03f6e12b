"""Every API route × role × tier (issue 15.7): the API answers as the pages do. For reads, each
route is compared with the page that shows the same thing, as every kind of account; writes are
refused with 404 outside the area and 403 without the role, before their body is looked at.
The anchor rows are written out by hand (as in test_access.py)."""
import pytest

from mediation.api import tokens
from mediation.diary.models import EntryKind
from mediation.extensions import db
from mediation.leads.models import Lead

from .factories import advance, make_agreement, make_case, unit, user, write_entry

VIEWERS = ["admin", "stats", "med-320413", "coord-320413109", "coord-320413106", "med-320413109201",
           "med-320413109202", "grid-320413109201"]
# GET /api/v1/cases/{id} of a case held by 上阳村, in the order of VIEWERS (written by hand).
CASE_READ = [200, 403, 200, 200, 404, 200, 404, 403]
# Its PATCH with a stale If-Match: 412 where the case may be edited, else 403 / 404.
CASE_EDIT = [412, 403, 403, 412, 404, 412, 404, 403]
# A lead of 上阳村 (reported by its grid worker).
LEAD_READ = [200, 403, 200, 200, 404, 200, 404, 200]

# API endpoint -> (method, path, page compared with, or None when the expected answers are given).
READS = {
    "api-cases.case_detail": ("/api/v1/cases/{c}", "/cases/{c}"),
    "api-cases.transition_list": ("/api/v1/cases/{c}/transitions", "/cases/{c}"),
    "api-cases.case_export": ("/api/v1/cases/{c}/export", "/cases/{c}"),
    "api-cases.case_pdf": ("/api/v1/cases/{c}/pdf/diary", "/cases/{c}/diary.pdf"),
    "api-cases.entry_pdf": ("/api/v1/cases/{c}/diary/{e}/pdf", "/cases/{c}/diary/{e}/record.pdf"),
    "api-cases.case_list": ("/api/v1/cases", "/cases/"),
    "api-records.diary_list": ("/api/v1/cases/{c}/diary", "/cases/{c}"),
    "api-records.diary_entry": ("/api/v1/cases/{c}/diary/{e}", "/cases/{c}"),
    "api-records.agreement_read": ("/api/v1/cases/{c}/agreement", "/cases/{c}/agreement/"),
    "api-records.screening_list": ("/api/v1/cases/{c}/screenings", "/cases/{c}"),
    "api-records.screening_read": ("/api/v1/cases/{c}/screenings/{s}", "/cases/{c}"),
    "api-records.transfers": ("/api/v1/cases/{c}/transfers", "/cases/{c}"),
    "api-units.units": ("/api/v1/units", "/units/"),
    "api-units.unit": ("/api/v1/units/320413109201", "/units/320413109201"),
    "api-leads.lead_list": ("/api/v1/leads", "/leads/"),
    "api-statistics.statistics": ("/api/v1/statistics?unit=320413109", "/stats/?unit=320413109"),
    "api-account.me": ("/api/v1/me", None),
    "api-units.categories": ("/api/v1/categories", None),
    "api-leads.lead_detail": ("/api/v1/leads/{l}", None),
}
ALL_200 = [200] * len(VIEWERS)
EXPECTED = {"api-account.me": ALL_200, "api-units.categories": ALL_200, "api-leads.lead_detail": LEAD_READ}
# Writes on the case: 404 outside the area, 403 without case files; else the step's own answer.
CASE_WRITES = {
    "api-cases.case_update": ("PATCH", "/api/v1/cases/{c}"),
    "api-cases.transition_take": ("POST", "/api/v1/cases/{c}/transitions/close"),
    "api-cases.case_open": ("POST", "/api/v1/cases/{c}/open"),
    "api-cases.reveal": ("POST", "/api/v1/cases/{c}/parties/{p}/id-number"),
    "api-records.diary_write": ("POST", "/api/v1/cases/{c}/diary"),
    "api-records.diary_amend": ("POST", "/api/v1/cases/{c}/diary/{e}/amendments"),
    "api-records.agreement_write": ("PUT", "/api/v1/cases/{c}/agreement"),
    "api-records.screening_create": ("POST", "/api/v1/cases/{c}/screenings"),
}
OUTSIDE = {"coord-320413106", "med-320413109202"}
NO_CASE_FILES = {"stats", "grid-320413109201"}
# Other writes: the role decides first (written by hand, in the order of VIEWERS; "ok" = not refused).
OTHER_WRITES = {
    "api-cases.case_create": ("POST", "/api/v1/cases", ["ok", 403, "ok", "ok", "ok", "ok", "ok", 403]),
    "api-cases.case_import": ("POST", "/api/v1/cases/import", ["ok", 403, "ok", "ok", "ok", "ok", "ok", 403]),
    "api-leads.lead_create": ("POST", "/api/v1/leads", [403, 403, 403, 403, 403, 403, 403, "ok"]),
    "api-leads.lead_dismiss": ("POST", "/api/v1/leads/{l}/dismiss", ["ok", 403, "ok", "ok", 404, "ok", 404, 403]),
}
PUBLIC = {"api-docs.openapi_json", "api_docs.reference"}


@pytest.fixture
def world(app, demo, login):
    case = advance(make_case(), "accept", "assign", "start")
    case.parties[0].id_number = "320482194203181227"
    entry = write_entry(case, mode=None, kind=EntryKind.CALL)
    make_agreement(case)
    lead = Lead(unit=unit("320413109201"), reporter=user("grid-320413109201"), who="王家", where="3组", what="争吵")
    db.session.add(lead)
    db.session.commit()
    from mediation.screening.services import screenings_of

    ids = {"c": case.id, "e": entry.id, "s": screenings_of(case)[0].id, "l": lead.id, "p": case.parties[0].id}
    clients = {}
    for who in VIEWERS:
        _t, secret = tokens.create_token(user(who), "matrix")
        db.session.commit()
        clients[who] = (app.test_client(), {"Authorization": f"Bearer {secret}"}, login(who))
    return app, ids, clients


def test_every_api_route_is_in_the_matrix(app):
    rules = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    covered = set(READS) | set(CASE_WRITES) | set(OTHER_WRITES) | PUBLIC
    assert rules == covered, (rules - covered, covered - rules)


def test_reads_answer_as_the_pages(world):
    _app, ids, clients = world
    for endpoint, (path, page) in READS.items():
        got, want = [], []
        for i, who in enumerate(VIEWERS):
            client, headers, browser = clients[who]
            got.append(client.get(path.format(**ids), headers=headers).status_code)
            want.append(browser.get(page.format(**ids)).status_code if page else EXPECTED[endpoint][i])
        assert got == want, (endpoint, got, want)
    case_read = [clients[w][0].get(f"/api/v1/cases/{ids['c']}", headers=clients[w][1]).status_code for w in VIEWERS]
    assert case_read == CASE_READ


def test_writes_are_refused_by_area_and_role_before_their_body(world):
    _app, ids, clients = world
    for endpoint, (method, path) in CASE_WRITES.items():
        for who in VIEWERS:
            client, headers, _browser = clients[who]
            status = client.open(path.format(**ids), method=method, json={}, headers=headers).status_code
            if who in OUTSIDE:
                assert status == 404, (endpoint, who, status)
            elif who in NO_CASE_FILES:
                assert status == 403, (endpoint, who, status)
            else:
                assert status in (403, 409, 412, 422, 428), (endpoint, who, status)
    for endpoint, (method, path, expected) in OTHER_WRITES.items():
        for who, want in zip(VIEWERS, expected, strict=True):
            client, headers, _browser = clients[who]
            status = client.open(path.format(**ids), method=method, json={}, headers=headers).status_code
            if want == "ok":
                assert status == 422, (endpoint, who, status)  # let in, and told what the body lacks
            else:
                assert status == want, (endpoint, who, status)
    edit = [clients[w][0].patch(f"/api/v1/cases/{ids['c']}", json={"claims": "x"},
                                headers={**clients[w][1], "If-Match": '"0"'}).status_code for w in VIEWERS]
    assert edit == CASE_EDIT


@pytest.mark.parametrize("stage", ["pending at 薛埠镇", "at 薛埠镇"])
def test_cases_on_the_move_answer_as_their_pages(app, demo, login, stage):
    """The tiers: a case escalated to the town is read by the village that sent it, as on the pages."""
    from .test_access import _stage

    case = _stage(stage)
    for who in VIEWERS:
        _t, secret = tokens.create_token(user(who), "m")
        db.session.commit()
        api = app.test_client().get(f"/api/v1/cases/{case.id}", headers={"Authorization": f"Bearer {secret}"})
        page = login(who).get(f"/cases/{case.id}")
        assert api.status_code == page.status_code, (stage, who)
