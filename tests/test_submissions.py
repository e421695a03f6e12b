"""One tap, one record (issue 14.1): a form sent twice, one after the other or at the same
instant, creates one record and both land in the same place."""
import io
import re
import threading
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from mediation import submissions
from mediation.agreements.models import Agreement
from mediation.agreements.services import agreement_of
from mediation.attachments.models import Attachment
from mediation.cases.models import Case, CaseEvent, Category
from mediation.diary.models import Amendment, DiaryEntry, EntryKind, Performance
from mediation.extensions import db
from mediation.leads.models import Lead
from mediation.org.models import OrgUnit
from mediation.screening.models import SafetyPlan, Screening
from mediation.screening.scoring import ITEMS
from mediation.submissions import SubmissionKey
from mediation.teaching.models import TeachingCase
from mediation.timeutil import local_today, utcnow
from mediation.transfers.models import Delegation, Referral, Transfer
from mediation.users.models import User

from .factories import advance, make_agreement, make_case, unit, user, write_entry
from .test_cases import intake
from .test_diary import entry_form

MED, COORD, GRID = "med-320413109201", "coord-320413109", "grid-320413109201"
KEY_RE = re.compile(r'name="submission_key" value="([A-Za-z0-9_-]+)"')


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def key_of(client, url: str) -> str:
    """The key the form page issues (each drawing a fresh one)."""
    page = client.get(url).get_data(as_text=True)
    keys = KEY_RE.findall(page)
    assert keys, f"no submission key on {url}"
    return keys[0]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _lead(_case):
    return GRID, "/leads/new", "/leads/new", {"who": "王家夫妻", "where": "3组12号", "what": "吵得很凶",
                                              "urgency": "normal"}, Lead


def _case(_case):
    return MED, "/cases/new", "/cases/new", intake(), Case


def _diary(case):
    return MED, f"/cases/{case.id}/diary/new", f"/cases/{case.id}/diary/new", entry_form(case), DiaryEntry


def _amendment(case):
    entry = write_entry(case)
    url = f"/cases/{case.id}/diary/{entry.id}/amend"
    return MED, url, url, {"reason": "记错了金额", "text": "应为8600元"}, Amendment


def _agreement(case):
    url = f"/cases/{case.id}/agreement/"
    return MED, url, url, {"kind": "written", "reached_on": local_today().isoformat(), "facts": "推诿医药费。",
                           "disputed_points": "分担。", "terms-0-content": "三人平摊。", "version": "0"}, Agreement


def _screening(case):
    data = {"party": case.parties[0].id, "occasion": "pre_session", "asked_alone": "y"}
    data.update({f"q{i.number}": "no" for i in ITEMS})
    return MED, f"/cases/{case.id}/screening/new", f"/cases/{case.id}/screening/new", data, Screening


def _safety_plan(case):
    from mediation.cases.models import RiskLevel

    case.risk_level = RiskLevel.ORANGE
    db.session.commit()
    return MED, f"/cases/{case.id}", f"/cases/{case.id}/screening/safety-plan", {"measures": "分开居住"}, SafetyPlan


def _upload(case):
    return (MED, f"/cases/{case.id}", f"/cases/{case.id}/attachments/",
            {"file": lambda: (io.BytesIO(png()), "a.png"), "kind": "agreement", "title": "照片"}, Attachment)


def _escalation(case):
    url = f"/cases/{case.id}/do/escalate"
    return MED, url, url, {"version": str(case.version), "to_unit": unit("320413109").id, "reason_code": "safety",
                           "urgency": "urgent", "note": "对方酗酒"}, Transfer


def _referral(case):
    url = f"/cases/{case.id}/do/refer"
    return MED, url, url, {"version": str(case.version), "destination": "legal_aid",
                           "referred_on": local_today().isoformat()}, Referral


def _delegation(case):
    from mediation.cases import workflow
    from mediation.transfers.models import EscalationReason, Urgency

    workflow.transition(case, "escalate", by=user(MED), to_unit=unit("320413109"),
                        reason_code=EscalationReason.SAFETY, urgency=Urgency.NORMAL)
    db.session.commit()
    workflow.transition(case, "receive", by=user(COORD), lead_mediator=user(COORD), co_mediators=[])
    db.session.commit()
    url = f"/cases/{case.id}/do/delegate"
    return COORD, url, url, {"version": str(case.version), "to_unit": unit("320413109201").id,
                             "instruction": "走访汤家", "due_date": (local_today() + timedelta(days=7)).isoformat()
                             }, Delegation


def _teaching(case):
    advance(case, "start", "conclude", "follow_up", "close", by=MED)
    return MED, f"/cases/{case.id}", f"/teaching/from-case/{case.id}", {}, TeachingCase


def _user(_case):
    return "admin", "/users/new", "/users/new", {
        "username": "wang.fang", "display_name": "王芳", "phone": "13800001234", "unit": str(unit("320413109201").id),
        "roles": ["mediator"], "password": "Lotus-pond-77"}, User


def _unit(_case):
    return "admin", "/units/320413109", "/units/320413109/children", {"add-code": "320413109299",
                                                                      "add-name": "新建村"}, OrgUnit


def _category(_case):
    return "admin", "/cases/categories/", "/cases/categories/", {"new-code": "pets", "new-name_zh": "宠物纠纷",
                                                                 "new-name_en": "Pets", "new-active": "y"}, Category


def _opening(case):
    """Opening a restricted case records its reason in the audit log: once per tap."""
    from mediation.audit.models import AuditEvent
    from mediation.cases import workflow

    workflow.transition(case, "restrict", by=user(COORD), named_users=[], reason="当事人系村干部亲属")
    db.session.commit()
    url = f"/cases/{case.id}/open"
    return COORD, url, url, {"reason": "继续调解"}, AuditEvent


FORMS = {"opening": _opening, "lead": _lead, "case": _case, "diary entry": _diary, "amendment": _amendment,
         "agreement": _agreement,
         "screening": _screening, "safety plan": _safety_plan, "upload": _upload, "escalation": _escalation,
         "referral": _referral, "delegation": _delegation, "teaching draft": _teaching, "user": _user,
         "unit": _unit, "category": _category}


@pytest.mark.parametrize("name", FORMS)
def test_every_creating_form_sent_twice_makes_one_record(demo, login, app, tmp_path, name):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    case = advance(make_case(), "accept", "assign", by=COORD)
    if name in ("agreement", "referral"):
        advance(case, "start", by=MED)
    username, page, url, data, model = FORMS[name](case)
    client = login(username)
    key = key_of(client, page)
    before = count(model)

    def post():
        sent = {k: v() if callable(v) else v for k, v in data.items()}
        return client.post(url, data={**sent, "submission_key": key}, content_type="multipart/form-data")

    first = post()
    assert first.status_code == 302, first.get_data(as_text=True)[:3000]
    assert count(model) == before + 1
    second = post()  # the double tap, or the retry on a slow network
    assert second.status_code == 303 and second.headers["Location"] == first.headers["Location"]
    assert count(model) == before + 1, name
    assert "只保存了一次" in client.get(second.headers["Location"]).get_data(as_text=True)


def test_a_refused_form_keeps_its_key_free_and_a_new_form_saves_again(demo, login):
    case = advance(make_case(), "accept", "assign")
    med = login(MED)
    url = f"/cases/{case.id}/diary/new"
    key = key_of(med, url)
    assert key != key_of(med, url)  # each drawing of the form: its own key
    # Refused (a date in the future): nothing saved, the same form corrected goes through.
    bad = med.post(url, data={**entry_form(case, occurred_on=(local_today() + timedelta(days=2)).isoformat()),
                              "submission_key": key})
    assert bad.status_code == 200 and count(DiaryEntry) == 0 and count(SubmissionKey) == 0
    assert med.post(url, data={**entry_form(case), "submission_key": key}).status_code == 302
    assert count(DiaryEntry) == 1
    # A new drawing of the form is a new entry; another user's key is theirs alone.
    assert med.post(url, data={**entry_form(case), "submission_key": key_of(med, url)}).status_code == 302
    assert count(DiaryEntry) == 2
    co = login("med-320413109202")  # another village: not the case's, so the key does not even matter
    assert co.post(url, data={**entry_form(case), "submission_key": key}).status_code == 404


def test_a_step_tapped_twice_from_the_case_page_is_taken_once(demo, login):
    """The button forms on the case page (accept) carry a key too: the second tap lands on the
    case without "not possible now"."""
    case = make_case()
    coord = login(COORD)
    page = coord.get(f"/cases/{case.id}").get_data(as_text=True)
    form = page[page.index(f'action="/cases/{case.id}/do/accept"'):]
    key = KEY_RE.search(form).group(1)
    data = {"version": str(case.version), "from_detail": "1", "submission_key": key}
    assert coord.post(f"/cases/{case.id}/do/accept", data=data).status_code == 302
    second = coord.post(f"/cases/{case.id}/do/accept", data=data)
    assert second.status_code == 303
    page = coord.get(second.headers["Location"]).get_data(as_text=True)
    assert "只保存了一次" in page and "alert-warning" not in page  # not "not possible now"
    db.session.rollback()
    accepted = db.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id,
                                                                        CaseEvent.kind == "accept"))
    assert accepted == 1


def _race(app, post, n=2):
    """``post(i)`` from n threads released together; returns their responses."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def run(i):
        barrier.wait()
        out[i] = post(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_two_identical_posts_at_once_make_one_case_and_one_entry(demo, login, app):
    """Two sessions of the same mediator (a phone and its retry) send the same form at the same
    instant, on SQLite and on PostgreSQL: one case, one diary entry, and both land on it."""
    clients = [login(MED), login(MED)]
    key = key_of(clients[0], "/cases/new")
    cases_before = count(Case)
    data = {**intake(), "submission_key": key}
    responses = _race(app, lambda i: clients[i].post("/cases/new", data=data))
    assert sorted(r.status_code for r in responses) in ([302, 303], [302, 302]), [r.status_code for r in responses]
    assert {r.headers["Location"] for r in responses} == {responses[0].headers["Location"]}
    assert count(Case) == cases_before + 1
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    advance(case, "accept", "assign")
    key = key_of(clients[0], f"/cases/{case.id}/diary/new")
    url, data = f"/cases/{case.id}/diary/new", {**entry_form(case), "submission_key": key}
    responses = _race(app, lambda i: clients[i].post(url, data=data))
    assert all(r.status_code in (302, 303) for r in responses)
    assert {r.headers["Location"] for r in responses} == {responses[0].headers["Location"]}
    assert count(DiaryEntry) == 1


def test_the_second_claim_waits_for_the_first_and_lands_where_it_did(demo, app):
    """The race itself: the second claim of a key waits on the first transaction (unique key;
    PostgreSQL's index, SQLite's write lock) and, once that commits, answers Duplicate with
    its target, having written nothing."""
    med_id = user(MED).id
    db.session.remove()
    first_claimed, release = threading.Event(), threading.Event()
    result = {}

    def first():
        with app.test_request_context("/"):
            row = submissions.claim("k" * 24, med_id)
            first_claimed.set()
            release.wait(10)
            submissions.remember(row, "/cases/1")
            db.session.commit()
            db.session.remove()

    def second():
        with app.test_request_context("/"):
            first_claimed.wait(10)
            try:
                submissions.claim("k" * 24, med_id)
                result["second"] = "claimed"
                db.session.commit()
            except submissions.Duplicate as dup:
                result["second"] = dup.target
            db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_claimed.wait(10)
    threads[1].join(0.5)
    assert threads[1].is_alive()  # waiting for the first transaction
    release.set()
    for t in threads:
        t.join(20)
    assert result["second"] == "/cases/1"
    with app.test_request_context("/"):
        assert db.session.scalar(select(func.count(SubmissionKey.id))) == 1


def test_old_keys_are_forgotten_when_the_user_claims_again(demo, app):
    med = user(MED)
    db.session.add(SubmissionKey(user_id=med.id, key="o" * 24, target="/x", created_at=utcnow() - timedelta(days=2)))
    db.session.add(SubmissionKey(user_id=med.id, key="r" * 24, target="/y", created_at=utcnow()))
    db.session.commit()
    submissions.claim("n" * 24, med.id)
    db.session.commit()
    assert sorted(db.session.scalars(select(SubmissionKey.key))) == ["n" * 24, "r" * 24]


def test_a_follow_up_visit_recorded_twice_is_one_visit(demo, login):
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    make_agreement(case)
    advance(case, "conclude", "follow_up", by=COORD)
    med = login(MED)
    url = f"/cases/{case.id}/diary/new?kind=follow_up"
    key = key_of(med, url)
    data = {**entry_form(case, kind="follow_up", mode="", performance=Performance.PERFORMED.value),
            "submission_key": key, "satisfaction": "satisfied",
            **{f"term-{n}": Performance.PERFORMED.value for n in range(len(agreement_of(case).terms))}}
    assert med.post(f"/cases/{case.id}/diary/new", data=data).status_code == 302
    assert med.post(f"/cases/{case.id}/diary/new", data=data).status_code == 303
    assert db.session.scalar(select(func.count(DiaryEntry.id)).where(DiaryEntry.kind == EntryKind.FOLLOW_UP)) == 1


def test_a_key_used_once_does_not_open_another_restricted_case_without_its_reason(demo, login):
    """The second tap of an opening opens the case it opened; a key from another form or
    another case, sent again to open a case, opens nothing and logs nothing (an attacker
    read restricted cases with no reason in the log this way)."""
    from mediation.audit.models import AuditEvent
    from mediation.cases import workflow

    first, other = (advance(make_case(), "accept", "assign", by=COORD) for _ in range(2))
    for case in (first, other):
        workflow.transition(case, "restrict", by=user(COORD), named_users=[user("admin")], reason="亲属")
    db.session.commit()
    admin = login("admin")
    key = key_of(admin, f"/cases/{first.id}/open")
    assert admin.post(f"/cases/{first.id}/open", data={"reason": "督办", "submission_key": key}).status_code == 302
    assert admin.get(f"/cases/{first.id}").status_code == 200
    again = admin.post(f"/cases/{other.id}/open", data={"reason": "x", "submission_key": key})
    assert again.status_code == 303  # the first submission's answer, as for any used key
    assert admin.get(f"/cases/{other.id}").status_code == 302  # still asks why
    opened = db.session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == "case.open_restricted"))
    assert list(opened) == [str(first.id)]
