"""No silent truncation: a field's limit is shown by the page (data-maxlength), never applied by
the browser (maxlength cuts pasted text without a word); the server refuses over-long text with a
message and keeps what was typed; a line break counts once; a clipped summary says it is clipped."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from mediation.diary.services import FIELDS, edit_entry
from mediation.errors import DomainError
from mediation.extensions import db
from mediation.inbox import services as inbox
from mediation.inbox.models import Notification
from mediation.leads.models import Lead, LeadStatus
from mediation.stats.models import MonthlyConfirmation
from mediation.stats.services import NOTE_MAX, confirmable_months
from mediation.timeutil import local_today

from .factories import advance, make_case, user, write_entry

MED, COORD, GRID = "med-320413109201", "coord-320413109", "grid-320413109201"
CUTTING = re.compile(r"<(?:input|textarea)\b[^>]*\smaxlength=")


def report(login, what="夫妻吵架，男方摔东西", who="王家") -> Lead:
    resp = login(GRID).post("/leads/new", data={"who": who, "where": "3组", "what": what, "urgency": "normal"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return db.session.scalar(select(Lead).where(Lead.who == who).order_by(Lead.id.desc()))


def test_no_page_lets_the_browser_cut_text(demo, login):
    case = advance(make_case(), "accept", "assign")
    report(login)
    med = login(MED)
    pages = [(login(GRID), "/leads/new"), (med, "/cases/new"), (med, f"/cases/{case.id}/diary/new"),
             (med, "/leads/"), (med, f"/cases/{case.id}"), (login("admin"), "/users/new")]
    for client, url in pages:
        page = client.get(url).get_data(as_text=True)
        assert not CUTTING.search(page), url
        assert "data-maxlength=" in page, url
    # The search boxes carry no limit at all: a longer query is searched in part, and says so.
    for url in ("/search?q=王", "/cases/?q=王"):
        page = med.get(url).get_data(as_text=True)
        assert not CUTTING.search(page) and "data-search-max=" in page, url


def test_a_line_break_counts_once(demo, login):
    # A browser sends a textarea's line breaks as CRLF: 2,000 characters as typed are 2,010 sent.
    typed = "\n".join(["吵" * 199] * 10) + "吵"
    assert len(typed) == 2000
    lead = report(login, what=typed.replace("\n", "\r\n"), who="换行的王家")
    assert lead.what == typed
    refused = login(GRID).post("/leads/new", data={"who": "多一字的王家", "where": "3组", "urgency": "normal",
                                                    "what": (typed + "吵").replace("\n", "\r\n")})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "最多 2000 个字" in page
    assert db.session.scalar(select(Lead).where(Lead.who == "多一字的王家")) is None
    assert "吵" * 199 in page  # the text is kept to be shortened


def test_a_dismissal_refused_keeps_its_reason_and_says_why(demo, login):
    lead = report(login)
    med = login(MED)
    reason = "不是家庭纠纷" * 400  # 2,400 characters, the field takes 2,000
    resp = med.post(f"/leads/{lead.id}/dismiss", data={"reason": reason})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "排除理由：最多 2000 个字" in page and f'value="{reason}"' in page
    assert f'id="reason-{lead.id}-error"' in page and 'aria-invalid="true"' in page
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status is LeadStatus.NEW
    assert med.post(f"/leads/{lead.id}/dismiss", data={"reason": "不是家庭纠纷"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status is LeadStatus.DISMISSED


def test_reasons_and_notes_past_their_limit_are_refused_not_cut(demo, login):
    from mediation.retention.services import HOLD_REASON_MAX, set_legal_hold

    case = make_case()
    with pytest.raises(DomainError, match="500"):
        set_legal_hold(case, True, reason="诉" * (HOLD_REASON_MAX + 1), by=user("admin"))
    db.session.rollback()
    month = confirmable_months(local_today())[0]
    resp = login(MED).post("/stats/confirm", data={"month": month.isoformat()[:7], "note": "无" * (NOTE_MAX + 1)},
                           follow_redirects=True)
    assert f"备注：最多 {NOTE_MAX} 个字" in resp.get_data(as_text=True)
    assert db.session.scalar(select(MonthlyConfirmation)) is None
    login(MED).post("/stats/confirm", data={"month": month.isoformat()[:7], "note": "无" * NOTE_MAX})
    row = db.session.scalar(select(MonthlyConfirmation))
    assert row is None or len(row.note) == NOTE_MAX  # kept whole (or the month is not to be confirmed)


def test_a_long_query_says_what_was_searched(demo, login):
    med = login(MED)
    long = "上阳村王家婆媳纠纷" * 8  # 72 characters; 50 are searched
    for url in (f"/search?q={long}", f"/cases/?q={long}", f"/search?q={long[:50]}&cut=1"):
        page = med.get(url).get_data(as_text=True)
        assert 'id="search-cut"' in page and f"只搜索了前 50 个字：“{long[:50]}”" in page, url
    assert 'id="search-cut"' not in med.get("/cases/?q=王").get_data(as_text=True)


def test_an_edited_plan_leaves_one_item_saying_the_plan_as_it_is(demo):
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    first = local_today() + timedelta(days=2)
    entry = write_entry(case, next_date=first, next_step="再次背靠背调解")
    inbox.sync_due(user(MED))
    db.session.commit()

    def plans():
        db.session.expire_all()
        return [(n.key, n.params["step"], n.done_at is None) for n in db.session.scalars(
            select(Notification).where(Notification.kind == "planned", Notification.user_id == user(MED).id)
            .order_by(Notification.id))]

    assert plans() == [(f"planned:{entry.id}:{first}", "再次背靠背调解", True)]
    values = {k: getattr(entry, k) for k in FIELDS} | {"next_step": "约三子到村委会面谈" * 20}  # 180 characters
    edit_entry(entry, case, by=user(MED), values=values)  # the same day, a new step
    db.session.commit()
    ((key, step, open_),) = plans()
    assert open_ and len(step) == inbox.STEP_SHOWN and step.endswith("…") and step.startswith("约三子到村委会面谈")
    later = first + timedelta(days=3)
    edit_entry(entry, case, by=user(MED), values={**values, "next_date": later})  # another day
    db.session.commit()
    inbox.sync_due(user(MED))
    db.session.commit()
    assert [(k, o) for k, _s, o in plans()] == [(f"planned:{entry.id}:{first}", False),
                                                 (f"planned:{entry.id}:{later}", True)]
    # Back to the first day with another step: its item is open again and says that step.
    edit_entry(entry, case, by=user(MED), values={**values, "next_date": first, "next_step": "回到原日期：上门调解"})
    db.session.commit()
    inbox.sync_due(user(MED))
    db.session.commit()
    assert plans() == [(f"planned:{entry.id}:{first}", "回到原日期：上门调解", True),
                       (f"planned:{entry.id}:{later}", values["next_step"][:99] + "…", False)]


def test_clip_says_when_it_cut():
    from mediation.i18n import clip

    assert clip("调解", 5) == "调解" and clip("一二三四五六", 5) == "一二三四…"


def test_a_safety_plan_too_long_is_refused_saying_so(demo, login):
    from mediation.screening.models import SafetyPlan

    from .test_screening import screened

    case = advance(make_case(), "accept", "assign", "start")
    screened(case, (5, 9))  # orange: a safety plan is asked for
    med = login(MED)
    url = f"/cases/{case.id}/screening/safety-plan"
    page = med.post(url, data={"measures": "暂住娘家" * 1001}, follow_redirects=True).get_data(as_text=True)
    assert "最多 4000 个字" in page and "请写明安全措施" not in page
    assert 'data-maxlength="4000"' in page and db.session.scalar(select(SafetyPlan)) is None
    typed = "\n".join(["暂住娘家" * 99] * 10)  # 3,969 characters with nine line breaks, sent as CRLF
    med.post(url, data={"measures": typed.replace("\n", "\r\n")})
    assert db.session.scalar(select(SafetyPlan.measures)) == typed


def test_a_category_row_refused_comes_back_as_sent(demo, login):
    """Without JavaScript a too-long name came back as the stored one (a redirect): the row
    is shown again as sent, with the error beside it and at the top."""
    from mediation.cases.models import Category

    cat = db.session.scalars(select(Category).where(Category.code == "elder_support")).one()
    long_name = "赡养老人" * 10  # 40 characters, 32 allowed
    resp = login("admin").post(f"/cases/categories/{cat.id}", data={
        f"c{cat.id}-code": cat.code, f"c{cat.id}-name_zh": long_name, f"c{cat.id}-name_en": "Elder care",
        f"c{cat.id}-sort_order": "15", f"c{cat.id}-active": "y"})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert f'value="{long_name}"' in page and 'value="Elder care"' in page and 'value="15"' in page
    assert "is-invalid" in page and page.count("最多 32 个字") >= 2  # beside the box and at the top
    db.session.rollback()
    assert db.session.get(Category, cat.id).name_zh == "赡养"
