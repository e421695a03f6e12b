"""The JSON API v1 (issue 15): tokens, a case's whole lifecycle by API alone, errors as problem
documents, masking, restricted cases and reveals in the audit log, idempotency, the exchange
format and the outbox's webhooks (posted to a real HTTP receiver on this machine)."""
import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from mediation.api import outbox, tokens
from mediation.api.models import ApiToken, OutboxEvent, WebhookDelivery
from mediation.audit.models import AuditEvent
from mediation.cases.models import Case
from mediation.extensions import db
from mediation.timeutil import local_today

from .factories import advance, make_case, user

NO = {str(i): "no" for i in range(1, 17)}
API = "/api/v1"


def bearer(username: str, name: str = "test") -> dict:
    _token, secret = tokens.create_token(user(username), name)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api(app, demo):
    """api(username) -> (client, headers) with a fresh token of that account."""
    def make(username: str, name: str = "test"):
        return app.test_client(), bearer(username, name)
    return make


def new_case_body(**extra) -> dict:
    today = local_today().isoformat()
    body = {"category": "elder_support", "source": "court", "intake_date": today, "summary": "三兄弟为赡养费互相推诿。",
            "consent_to_mediate": True, "rights_notice_date": today, "people_involved": 4,
            "parties": [{"role": "applicant", "name": "汤桂珍", "phone": "13800001234", "address": "上阳村3组"},
                        {"role": "respondent", "name": "周国民", "id_number": "320482194203181227"}]}
    body.update(extra)
    return body


def test_a_case_goes_through_its_whole_life_by_api_alone(api):
    med, hm = api("med-320413109201")
    coord, hc = api("coord-320413109")
    r = med.post(f"{API}/cases", json=new_case_body(), headers=hm)
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    cid = case["id"]
    assert case["status"] == "registered" and case["unit"]["code"] == "320413109201"
    assert [u["code"] for u in case["unit"]["path"]] == ["320413", "320413109", "320413109201"]
    assert case["parties"][1]["id_number"] == "3204**********1227"  # masked
    assert r.headers["Location"] == f"{API}/cases/{cid}" and r.headers["ETag"] == '"1"'

    def step(client, headers, name, **data):
        resp = client.post(f"{API}/cases/{cid}/transitions/{name}", json=data, headers=headers)
        assert resp.status_code == 200, (name, resp.get_json())
        return resp.get_json()["case"]

    names = [t["name"] for t in coord.get(f"{API}/cases/{cid}/transitions", headers=hc).get_json()["items"]]
    assert "accept" in names
    step(coord, hc, "accept")
    lead = user("med-320413109201").id
    step(coord, hc, "assign", lead_mediator=lead)
    # Mediation cannot start before each party is screened alone: the page's guard and message.
    r = med.post(f"{API}/cases/{cid}/transitions/start", json={}, headers=hm)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "筛查" in r.get_json()["detail"]
    for party in case["parties"]:
        r = med.post(f"{API}/cases/{cid}/screenings", headers=hm, json={
            "party": party["id"], "occasion": "intake", "answers": NO, "asked_alone": True})
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["answers"] == NO  # the case's mediator sees the answers
    step(med, hm, "start")
    r = med.post(f"{API}/cases/{cid}/diary", headers=hm, json={
        "kind": "session", "occurred_on": local_today().isoformat(), "mode": "separate", "issues": "赡养费分摊",
        "party_ids": [p["id"] for p in case["parties"]], "positions": {str(case["parties"][0]["id"]): "每月600元"}})
    assert r.status_code == 201, r.get_json()
    entry = r.get_json()
    assert entry["positions"] == {str(case["parties"][0]["id"]): "每月600元"}
    r = med.put(f"{API}/cases/{cid}/agreement", headers={**hm, "If-Match": '"0"'}, json={
        "kind": "written", "reached_on": local_today().isoformat(), "facts": "事实",
        "terms": [{"content": "三个儿子每月各给母亲生活费600元。", "method": "转账", "deadline": "每月5日前"}]})
    assert r.status_code == 200, r.get_json()
    version = r.get_json()["version"]
    assert r.headers["ETag"] == f'"{version}"'
    step(med, hm, "conclude", outcome="success")
    step(med, hm, "follow_up")
    r = med.post(f"{API}/cases/{cid}/transitions/close", json={}, headers=hm)
    assert r.status_code == 422 and "回访" in r.get_json()["detail"]
    r = med.post(f"{API}/cases/{cid}/diary", headers=hm, json={
        "kind": "follow_up", "occurred_on": local_today().isoformat(), "performance": "performed",
        "satisfaction": "satisfied"})
    assert r.status_code == 201, r.get_json()
    r = med.post(f"{API}/cases/{cid}/screenings", headers=hm, json={
        "party": case["parties"][0]["id"], "occasion": "closure", "answers": NO, "asked_alone": True})
    assert r.status_code == 201
    step(med, hm, "close")
    done = step(coord, hc, "archive")
    assert done["status"] == "archived"
    # The outbox has each event, in order, written with its change.
    kinds = list(db.session.scalars(select(OutboxEvent.kind).where(OutboxEvent.case_id == cid)
                                    .order_by(OutboxEvent.id)))
    assert kinds == ["registered", "accepted", "concluded", "closed", "archived"]
    # Every write is in the audit log with the token's name.
    writes = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.write")).all()
    assert len(writes) >= 12 and all(w.details.get("api_token") == "test" for w in writes)
    steps = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.transition")).all()
    assert {s.details["api_token"] for s in steps} == {"test"}


def test_tokens_are_401_when_missing_unknown_revoked_or_inactive(app, api):
    client, headers = api("med-320413109201")
    assert client.get(f"{API}/me", headers=headers).status_code == 200
    for bad in ({}, {"Authorization": "Bearer mdt_nope"}, {"Authorization": "Basic x"}):
        r = client.get(f"{API}/me", headers=bad)
        assert r.status_code == 401 and r.mimetype == "application/problem+json", bad
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "test"))
    tokens.revoke(token, by=token.user)
    db.session.commit()
    assert client.get(f"{API}/me", headers=headers).status_code == 401
    _c, other = api("med-320413109202", "other")
    u = user("med-320413109202")
    u.active = False
    db.session.commit()
    assert client.get(f"{API}/me", headers=other).status_code == 401
    # Only the hash is stored.
    secret = other["Authorization"].split()[1]
    assert db.session.scalar(select(ApiToken.token_hash).where(ApiToken.name == "other")) == \
        hashlib.sha256(secret.encode()).hexdigest()


def test_the_audit_log_names_token_events_in_words(app, api, login):
    client, headers = api("med-320413109201")
    client.get(f"{API}/me", headers={"Authorization": "Bearer mdt_nope"})
    page = login("admin").get("/audit/").get_data(as_text=True)
    assert "API 令牌" in page and "未知令牌" in page
    events = page.split('id="audit-events"')[1]
    assert not re.search(r"api_token\s*\d", events) and "unknown" not in events


def test_wrong_tokens_are_throttled_per_address(app, api):
    import time_machine

    from mediation.timeutil import epoch_seconds

    app.config["API_MAX_FAILURES_PER_ADDRESS"] = 3
    client, headers = api("med-320413109201")
    window = 60 * app.config["LOGIN_WINDOW_MINUTES"]
    # The clock stands a minute into a window: the counts cannot roll over into the next one.
    with time_machine.travel((epoch_seconds() // window + 1) * window + 60, tick=False):
        _throttled(client, headers)


def _throttled(client, headers):
    for _i in range(3):
        assert client.get(f"{API}/me", headers={"Authorization": "Bearer mdt_guess"}).status_code == 401
    r = client.get(f"{API}/me", headers={"Authorization": "Bearer mdt_guess"})
    assert r.status_code == 429 and r.headers["Retry-After"]
    # Over the limit even the right token waits (as a login does), from that address only.
    assert client.get(f"{API}/me", headers=headers).status_code == 429
    other = client.get(f"{API}/me", headers=headers, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200


def test_a_browser_session_cannot_call_the_api(app, demo, login):
    page = login("med-320413109201")
    r = page.get(f"{API}/me")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert "Set-Cookie" not in r.headers  # nor does the API touch the session
    assert page.post(f"{API}/cases", json=new_case_body()).status_code == 401


def test_errors_are_problem_documents_in_the_users_language(api):
    client, headers = api("med-320413109201")
    body = new_case_body()
    body["parties"][1]["id_number"] = "320482194203181228"
    r = client.post(f"{API}/cases", json=body, headers={**headers, "Accept-Language": "en"})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "check digit" in r.get_json()["errors"]["parties.1.id_number"][0]
    r = client.post(f"{API}/cases", json=body, headers={**headers, "Accept-Language": "zh-CN"})
    assert "校验" in r.get_json()["errors"]["parties.1.id_number"][0]
    r = client.post(f"{API}/cases", json={"summary": 5, "bogus": 1}, headers={**headers, "Accept-Language": "en"})
    errors = r.get_json()["errors"]
    assert r.status_code == 422 and "bogus" in errors and "summary" in errors and "parties" in errors
    r = client.post(f"{API}/cases", data="{not json", headers={**headers, "Content-Type": "application/json"})
    assert r.status_code in (400, 422) and r.mimetype == "application/problem+json"
    assert r.get_json()["errors"]["_"] == ["请求正文不是有效的 JSON。"]  # webargs' message, translated
    assert r.get_json()["detail"] == "请求正文不是有效的 JSON。"  # no field to name (QA)
    r = client.post(f"{API}/cases", data="[" * 100_000 + "]" * 100_000,
                    headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 400 and "嵌套" in r.get_json()["detail"]  # told why (QA)
    # A form or text body is not read as an empty JSON object ("every field required", QA).
    for content_type, data in (("application/x-www-form-urlencoded", "summary=x"), ("text/plain", "hello")):
        r = client.post(f"{API}/cases", data=data, headers={**headers, "Content-Type": content_type})
        assert r.status_code == 415 and "Content-Type: application/json" in r.get_json()["detail"]
        assert "errors" not in r.get_json()
    # Outside the user's area, the case is not found whatever the body.
    r = client.post(f"{API}/cases/999999/open", data="x", headers={**headers, "Content-Type": "text/plain"})
    assert r.status_code == 404
    r = client.get(f"{API}/cases/999999", headers=headers)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.get(f"{API}/nothing-here", headers=headers)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.post(f"{API}/cases", json={**new_case_body(), "summary": "a\x00b"}, headers=headers)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"


def test_out_of_scope_is_404_and_masking_follows_the_pages(api):
    case = make_case(dv_flag=True)
    case.parties[0].phone, case.parties[0].address = "13800009999", "上阳村9组"
    db.session.commit()
    other, ho = api("med-320413109202", "other")
    assert other.get(f"{API}/cases/{case.id}", headers=ho).status_code == 404
    assert other.post(f"{API}/cases/{case.id}/transitions/accept", json={}, headers=ho).status_code == 404
    # A flagged case before mediators are named: only the person who registered it sees the contacts.
    coord, hc = api("coord-320413109", "c")
    seen = coord.get(f"{API}/cases/{case.id}", headers=hc).get_json()["parties"][0]
    assert seen["phone"] is None and seen["address"] is None and seen["contacts_protected"]
    med, hm = api("med-320413109201", "m")
    assert med.get(f"{API}/cases/{case.id}", headers=hm).get_json()["parties"][0]["phone"] == "13800009999"


def test_update_needs_if_match_and_refuses_a_stale_version(api):
    client, headers = api("med-320413109201")
    cid = client.post(f"{API}/cases", json=new_case_body(), headers=headers).get_json()["id"]
    r = client.patch(f"{API}/cases/{cid}", json={"claims": "生活费"}, headers=headers)
    assert r.status_code == 428
    r = client.patch(f"{API}/cases/{cid}", json={"claims": "生活费"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["claims"] == "生活费" and r.headers["ETag"] == '"2"'
    # The masked ID number sent back keeps the stored one.
    parties = r.get_json()["parties"]
    send = [{k: p[k] for k in ("role", "name", "id_number")} for p in parties]
    r = client.patch(f"{API}/cases/{cid}", json={"parties": send}, headers={**headers, "If-Match": '"2"'})
    assert r.status_code == 200, r.get_json()
    assert db.session.get(Case, cid).parties[1].id_number == "320482194203181227"
    r = client.patch(f"{API}/cases/{cid}", json={"claims": "x"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 412 and r.mimetype == "application/problem+json"


def test_list_filters_search_and_cursor(api):
    client, headers = api("med-320413109201")
    ids = [client.post(f"{API}/cases", json=new_case_body(summary=f"纠纷{i}"), headers=headers).get_json()["id"]
           for i in range(5)]
    seen, cursor = [], None
    while True:
        r = client.get(f"{API}/cases", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                       headers=headers)
        assert r.status_code == 200
        page = r.get_json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)
    assert client.get(f"{API}/cases?limit=101", headers=headers).status_code == 422
    assert client.get(f"{API}/cases?cursor=garbage", headers=headers).status_code == 400
    got = client.get(f"{API}/cases", query_string={"q": "汤桂珍", "status": "registered"}, headers=headers).get_json()
    assert len(got["items"]) == 5 and got["items"][0]["parties"] == ["汤**", "周**"]


def test_the_units_come_by_cursor_each_after_its_parent(api, monkeypatch):
    """A province's network is some 26,000 units: 1,000 a page (here 40), each once."""
    from mediation import access
    from mediation.api import resources
    from mediation.org.models import OrgUnit

    monkeypatch.setattr(resources, "UNITS_PAGE", 40)
    client, headers = api("admin")
    pages, cursor = [], None
    while True:
        r = client.get(f"{API}/units", query_string={"cursor": cursor} if cursor else {}, headers=headers)
        assert r.status_code == 200
        pages.append(r.get_json()["items"])
        cursor = r.get_json()["next_cursor"]
        if not cursor:
            break
    codes = [u["code"] for page in pages for u in page]
    expected = set(db.session.scalars(access.units_query(user("admin")).with_only_columns(OrgUnit.code)))
    assert len(pages) >= 3 and all(len(page) == 40 for page in pages[:-1])
    assert len(codes) == len(set(codes)) and set(codes) == expected
    position = {code: i for i, code in enumerate(codes)}
    assert all(position[u["parent"]] < position[u["code"]] for page in pages for u in page if u["parent"])
    assert client.get(f"{API}/units?cursor=garbage", headers=headers).status_code == 400  # not "the end" (QA)
    from mediation.api.common import encode_cursor

    for forged in ("/1/\x00/", "x", "/1/2"):  # well-formed cursors of no path (a NUL is refused by PostgreSQL)
        assert client.get(f"{API}/units", query_string={"cursor": encode_cursor([forged])},
                          headers=headers).status_code == 400, forged
    town = client.get(f"{API}/units", headers=api("coord-320413109")[1]).get_json()
    assert town["next_cursor"] is None and town["items"][0]["code"] == "320413109"


def test_workflow_refusals_say_why(api):
    case = make_case()
    med, hm = api("med-320413109201")
    coord, hc = api("coord-320413109", "c")
    r = coord.post(f"{API}/cases/{case.id}/transitions/start", json={}, headers=hc)
    assert r.status_code == 409 and r.get_json()["transition"] == "start"
    assert coord.post(f"{API}/cases/{case.id}/transitions/fly", json={}, headers=hc).status_code == 404
    r = coord.post(f"{API}/cases/{case.id}/transitions/decline", json={}, headers=hc)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    r = coord.post(f"{API}/cases/{case.id}/transitions/accept", json={"version": 99}, headers=hc)
    assert r.status_code == 412
    grid, hg = api("grid-320413109201", "g")
    assert grid.get(f"{API}/cases/{case.id}", headers=hg).status_code == 403  # no case files at all


def test_escalation_and_referral_by_api(api):
    case = advance(make_case(), "accept", "assign", "start")
    med, hm = api("med-320413109201")
    coord, hc = api("coord-320413109", "c")
    r = med.post(f"{API}/cases/{case.id}/transitions/escalate", headers=hm,
                 json={"to_unit": "320413109", "reason_code": "unsettled", "urgency": "normal"})
    assert r.status_code == 200, r.get_json()
    r = coord.post(f"{API}/cases/{case.id}/transitions/receive", headers=hc,
                   json={"lead_mediator": user("coord-320413109").id})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["case"]["unit"]["code"] == "320413109"
    r = coord.post(f"{API}/cases/{case.id}/transitions/refer", headers=hc, json={
        "destination": "legal_aid", "referred_on": local_today().isoformat(), "reference": "法援2026-1"})
    assert r.status_code == 200, r.get_json()
    moves = coord.get(f"{API}/cases/{case.id}/transfers", headers=hc).get_json()
    assert moves["transfers"][0]["status"] == "accepted" and moves["referrals"][0]["open"]
    ref = moves["referrals"][0]["id"]
    r = coord.post(f"{API}/cases/{case.id}/transitions/referral_result", headers=hc, json={
        "referral": ref, "outcome_text": "已提供法律援助", "outcome_on": local_today().isoformat()})
    assert r.status_code == 200, r.get_json()
    kinds = list(db.session.scalars(select(OutboxEvent.kind).where(OutboxEvent.case_id == case.id)
                                    .order_by(OutboxEvent.id)))
    assert kinds[-4:] == ["escalated", "received", "referred", "referral_result"]


def test_screening_answers_only_for_the_cases_mediators(api):
    case = advance(make_case(), "accept", "assign")
    med, hm = api("med-320413109201")
    r = med.post(f"{API}/cases/{case.id}/screenings", headers=hm, json={
        "party": case.parties[0].id, "occasion": "intake", "answers": {**NO, "1": "yes"}, "asked_alone": True})
    assert r.status_code == 201 and r.get_json()["level"] == "red"
    coord, hc = api("coord-320413109", "c")
    items = coord.get(f"{API}/cases/{case.id}/screenings", headers=hc).get_json()["items"]
    assert items[0]["level"] == "red" and not items[0]["answers_shown"] and "answers" not in items[0]
    r = med.post(f"{API}/cases/{case.id}/screenings", headers=hm, json={
        "party": case.parties[1].id, "occasion": "intake", "answers": NO, "asked_alone": False})
    assert r.status_code == 422


def test_restricted_case_opens_with_a_reason_and_reveals_are_audited(api):
    from mediation.cases import workflow

    case = advance(make_case(), "accept", "assign", "start")
    case.parties[0].id_number = "320482194203181227"
    workflow.transition(case, "restrict", by=user("coord-320413109"), named_users=[], reason="亲属")
    db.session.commit()
    med, hm = api("med-320413109201", "mine")
    listed = med.get(f"{API}/cases", headers=hm).get_json()["items"][0]
    assert listed["content_hidden"] and "parties" not in listed
    # Its intake date is not in a cursor, and a cursor typed by hand does not find it by halving.
    import base64
    from datetime import timedelta

    from mediation.api.common import encode_cursor

    older = make_case(intake_date=case.intake_date - timedelta(days=3))
    first = med.get(f"{API}/cases?limit=1", headers=hm).get_json()
    cursor = json.loads(base64.urlsafe_b64decode(first["next_cursor"] + "==").decode())
    assert first["items"][0]["id"] == case.id and cursor != [case.intake_date.isoformat(), case.id]
    crafted = encode_cursor([case.intake_date + timedelta(days=1), 10**9])
    paged = med.get(f"{API}/cases?cursor={crafted}", headers=hm).get_json()["items"]
    assert case.id not in [c["id"] for c in paged] and older.id in [c["id"] for c in paged]
    assert med.get(f"{API}/cases/{case.id}", headers=hm).status_code == 403
    other, ho = api("med-320413", "station")  # not named: 404, as on the pages
    assert other.get(f"{API}/cases/{case.id}", headers=ho).status_code == 404
    assert other.post(f"{API}/cases/{case.id}/open", json={"reason": "看看"}, headers=ho).status_code == 404
    r = med.post(f"{API}/cases/{case.id}/open", json={"reason": "继续调解"}, headers=hm)
    assert r.status_code == 200 and r.get_json()["summary"]
    assert med.get(f"{API}/cases/{case.id}", headers=hm).status_code == 200  # open for this token now
    r = med.post(f"{API}/cases/{case.id}/parties/{case.parties[0].id}/id-number", json={"reason": "核对身份"},
                 headers=hm)
    assert r.get_json()["id_number"] == "320482194203181227" and r.headers["Cache-Control"] == "no-store"
    audit = {e.action: e.details for e in db.session.scalars(select(AuditEvent))}
    assert audit["reveal"]["api_token"] == "mine" and audit["reveal"]["reason"] == "核对身份"
    assert audit["case.open_restricted"]["api_token"] == "mine"


def test_idempotency_key_answers_the_first_response_again(api):
    client, headers = api("med-320413109201")
    h = {**headers, "Idempotency-Key": "k-1"}
    first = client.post(f"{API}/cases", json=new_case_body(), headers=h)
    again = client.post(f"{API}/cases", json=new_case_body(), headers=h)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(Case.id).order_by(Case.id.desc())) == first.get_json()["id"]
    assert len(db.session.scalars(select(Case)).all()) == 1
    other = client.post(f"{API}/cases", json=new_case_body(summary="另一件"), headers=h)
    assert other.status_code == 422


def test_leads_by_api(api):
    grid, hg = api("grid-320413109201")
    r = grid.post(f"{API}/leads", json={"who": "王家夫妻", "where": "3组12号", "what": "争吵", "urgency": "urgent",
                                        "contact_phone": "12"}, headers=hg)
    assert r.status_code == 422 and "contact_phone" in r.get_json()["errors"]
    r = grid.post(f"{API}/leads", json={"who": "王家夫妻", "where": "3组12号", "what": "争吵"}, headers=hg)
    assert r.status_code == 201
    lead = r.get_json()["id"]
    med, hm = api("med-320413109201", "m")
    assert [x["id"] for x in med.get(f"{API}/leads", headers=hm).get_json()["items"]] == [lead]
    r = med.post(f"{API}/cases", json=new_case_body(lead=lead), headers=hm)
    assert r.status_code == 201
    assert med.get(f"{API}/leads/{lead}", headers=hm).get_json()["status"] == "converted"
    assert med.post(f"{API}/leads/{lead}/dismiss", json={"reason": "x"}, headers=hm).status_code == 422
    # The town coordinator registering a village's lead holds the case in that village unless told otherwise.
    r = grid.post(f"{API}/leads", json={"who": "李家", "where": "5组", "what": "婆媳争吵"}, headers=hg)
    village_lead = r.get_json()["id"]
    coord, hc = api("coord-320413109", "c")
    r = coord.post(f"{API}/cases", json=new_case_body(lead=village_lead), headers=hc)
    assert r.status_code == 201 and r.get_json()["unit"]["code"] == "320413109201"


def test_statistics_suppress_small_counts(api):
    make_case()
    stats, hs = api("stats")
    got = stats.get(f"{API}/statistics", query_string={"unit": "320413109"}, headers=hs).get_json()
    assert got["summary"]["registered"] == "<3" and got["suppressed"]
    raw = stats.get(f"{API}/statistics?unit=320413109&suppress=false", headers=hs).get_json()
    assert raw["summary"]["registered"] == 1
    med, hm = api("med-320413109201", "m")
    assert med.get(f"{API}/statistics", headers=hm).status_code == 403


def test_pdf_by_link(api):
    import io

    from pypdf import PdfReader

    case = advance(make_case(), "accept", "assign", "start")
    med, hm = api("med-320413109201")
    link = med.get(f"{API}/cases/{case.id}", headers=hm).get_json()["links"]["pdfs"]["intake"]
    r = med.get(link, headers=hm)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "受理登记表" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages).replace(" ", "")
    assert med.get(f"{API}/cases/{case.id}/pdf/agreement", headers=hm).status_code == 404


def test_export_and_import_round_trip(api):
    case = advance(make_case(), "accept", "assign", "start")
    med, hm = api("med-320413109201")
    doc = med.get(f"{API}/cases/{case.id}/export", headers=hm).get_json()
    assert doc["format"] == "mediation-case/1" and doc["case"]["number"] == case.number
    assert {"diary", "agreement", "follow_ups", "transfers", "attachments"} <= set(doc)
    other, ho = api("med-320413109202", "court-liaison")
    r = other.post(f"{API}/cases/import", json={**doc, "source_system": "金坛区人民法院"}, headers=ho)
    assert r.status_code == 201, r.get_json()
    got = r.get_json()
    assert got["unit"]["code"] == "320413109202" and got["number"] != case.number
    assert got["imported_from"]["source_system"] == "金坛区人民法院"
    assert got["imported_from"]["external_reference"] == case.number
    assert [p["name"] for p in got["parties"]] == [p.name for p in case.parties]
    r = other.post(f"{API}/cases/import", json={**doc, "format": "other"}, headers=ho)
    assert r.status_code == 422


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    fail_first: set = set()

    def do_POST(self):  # noqa: N802  (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        event_id = self.headers["X-Mediation-Event-Id"]
        if event_id in self.fail_first:
            self.fail_first.discard(event_id)
            self.send_response(503)
            self.end_headers()
            return
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhooks_are_signed_delivered_once_in_order_and_bounded_by_access(app, demo, receiver):
    import time_machine

    from mediation.timeutil import utcnow

    port = receiver.server_address[1]
    app.config["API_WEBHOOKS"] = [
        {"name": "town", "url": f"http://127.0.0.1:{port}/hook", "secret": "s3cret", "user": "coord-320413109"},
        {"name": "other-town", "url": f"http://127.0.0.1:{port}/other", "secret": "x", "user": "coord-320413106"}]
    first = advance(make_case(), "accept")
    second = make_case()
    events = list(db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    assert [(e.case_id, e.kind) for e in events] == [(first.id, "registered"), (first.id, "accepted"),
                                                     (second.id, "registered")]
    _Receiver.fail_first = {str(events[0].id)}  # the first event of the first case fails once
    report = outbox.deliver()
    assert report.failed == 1 and report.waiting == 1 and report.delivered == 1
    assert [json.loads(b)["case"]["id"] for _h, b in _Receiver.received] == [second.id]
    assert report.skipped == 3  # the other town's coordinator may not see these cases
    with time_machine.travel(utcnow().replace(tzinfo=None).isoformat() + "+00:00", tick=False) as traveller:
        traveller.shift(60)
        report = outbox.deliver()
    assert report.delivered == 2
    bodies = [json.loads(b) for _h, b in _Receiver.received]
    assert [(b["case"]["id"], b["type"]) for b in bodies] == [(second.id, "registered"), (first.id, "registered"),
                                                              (first.id, "accepted")]
    headers, body = _Receiver.received[1]
    ts, mac = (part.split("=", 1)[1] for part in headers["X-Mediation-Signature"].split(","))
    assert mac == hmac.new(b"s3cret", f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert "汤桂珍" not in body.decode() and "周国民" not in body.decode()  # nothing personal
    assert outbox.deliver().delivered == 0  # at least once, and not again
    rows = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription == "town")).all()
    assert {r.status for r in rows} == {"delivered"} and max(r.attempts for r in rows) == 2


def test_the_tokens_page_shows_a_token_once(app, demo, login):
    page = login("med-320413109201")
    r = page.post("/account/tokens/", data={"name": "省平台"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    text = r.get_data(as_text=True)
    secret = text.split('value="mdt_')[1].split('"')[0]
    listed = page.get("/account/tokens/").get_data(as_text=True)
    assert "省平台" in listed and secret not in listed
    client = app.test_client()
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer mdt_{secret}"}).status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "省平台"))
    assert token.last_used_at is not None
    other = login("med-320413109202")
    assert other.post(f"/account/tokens/{token.id}/revoke").status_code == 404  # not theirs
    assert page.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer mdt_{secret}"}).status_code == 401


def test_a_working_token_name_is_not_given_twice(app, demo, login):
    page = login("med-320413109201")
    assert 'value="mdt_' in page.post("/account/tokens/", data={"name": "法院"}).get_data(as_text=True)
    again = page.post("/account/tokens/", data={"name": "法院"})  # back, and the same form again
    assert again.status_code == 422 and "已有名为“法院”的令牌" in again.get_data(as_text=True)
    assert page.post("/account/tokens/", data={"name": "fayuan"}).status_code == 200
    for same in ("法院 ", "ｆａｙｕａｎ", "FAYUAN"):  # the same name as it looks: width and case folded
        assert page.post("/account/tokens/", data={"name": same}).status_code == 422, same
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "法院"))
    tokens.revoke(token, by=token.user)
    db.session.commit()
    assert 'value="mdt_' in page.post("/account/tokens/", data={"name": "法院"}).get_data(as_text=True)


def test_the_token_form_sent_twice_makes_one_token(app, demo, login):
    page = login("med-320413109201")
    form = page.get("/account/tokens/").get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([A-Za-z0-9_-]+)"', form)[1]
    first = page.post("/account/tokens/", data={"name": "法院", "submission_key": key})
    assert first.status_code == 200 and 'value="mdt_' in first.get_data(as_text=True)
    again = page.post("/account/tokens/", data={"name": "法院", "submission_key": key})  # the double tap
    assert again.status_code == 303 and again.headers["Location"] == "/account/tokens/"
    listed = page.get("/account/tokens/").get_data(as_text=True)
    assert "只保存了一次" in listed and 'value="mdt_' not in listed  # the secret is not shown again
    db.session.rollback()
    assert len(db.session.scalars(select(ApiToken).where(ApiToken.name == "法院")).all()) == 1


def test_token_command_prints_a_token(app, demo, runner):
    result = runner.invoke(args=["api", "token", "create", "med-320413109201", "--name", "省平台"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("mdt_")
    r = app.test_client().get(f"{API}/me", headers={"Authorization": f"Bearer {secret}"})
    assert r.get_json()["token"] == "省平台"
    assert runner.invoke(args=["api", "token", "create", "nobody", "--name", "x"]).exit_code != 0


def test_the_documents_are_served_without_a_token(app, demo):
    client = app.test_client()
    spec = client.get(f"{API}/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert f"{API}/cases/{{case_id}}/transitions/{{name}}" in spec["paths"]
    page = client.get(f"{API}/docs")
    assert page.status_code == 200 and "/api/v1/cases" in page.get_data(as_text=True)
    # Nothing is fetched from another host (a random CSRF token may spell "cdn", so read the links).
    links = re.findall(r'(?:src|href)="([^"]*)"', page.get_data(as_text=True))
    assert links and not [u for u in links if u.startswith(("http:", "https:", "//"))]
    # The document's descriptions in the reader's language.
    en = client.get(f"{API}/openapi.json", headers={"Accept-Language": "en"}).get_json()
    zh = client.get(f"{API}/openapi.json", headers={"Accept-Language": "zh-CN"}).get_json()
    assert en["info"]["description"].startswith("The JSON API") and "令牌" in zh["info"]["description"]


def test_a_referral_that_ends_the_case_is_also_its_conclusion_in_the_outbox(api):
    case = advance(make_case(), "accept", "assign", "start")
    med, hm = api("med-320413109201")
    r = med.post(f"{API}/cases/{case.id}/transitions/refer", headers=hm, json={
        "destination": "police", "referred_on": local_today().isoformat(), "end_case": True})
    assert r.status_code == 422 and "第二十六条" in r.get_json()["detail"]  # PML art. 26: the page's guard
    r = med.post(f"{API}/cases/{case.id}/transitions/refer", headers=hm, json={
        "destination": "police", "referred_on": local_today().isoformat(), "end_case": True,
        "told_other_routes": True})
    assert r.status_code == 200 and r.get_json()["case"]["status"] == "concluded"
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.case_id == case.id)
                                .order_by(OutboxEvent.id)).all()
    assert [e.kind for e in events][-2:] == ["referred", "concluded"]
    assert events[-1].data["outcome"] == "terminated"
