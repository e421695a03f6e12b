"""The mediation diary: writing, same-day edits, amendments, confidential entries."""
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from mediation.cases.workflow import WorkflowError
from mediation.diary.models import Amendment, DiaryEntry, DiaryRevision, EntryKind
from mediation.extensions import db
from mediation.timeutil import local_today

from .factories import advance, make_case, user, write_entry


def entry_form(case, **extra) -> dict:
    # Yesterday: a time later today than now is refused (at 04:00 in Jintan, 14:30 today is ahead).
    data = {"kind": "session", "occurred_on": (local_today() - timedelta(days=1)).isoformat(), "start_time": "14:30",
            "duration_minutes": "90", "place": "上阳村村委会调解室", "mode": "joint",
            "party_ids": [str(p.id) for p in case.parties], "issues": "医药费8600元如何分摊",
            f"position-{case.parties[0].id}": "三个儿子平摊",
            f"position-{case.parties[1].id}": "老宅给了三子，三子多出",
            "proposals": "按4:3:3分摊", "result": "长子、次子同意，三子考虑", "next_step": "再约三子面谈",
            "next_date": (local_today() + timedelta(days=3)).isoformat()}
    data.update(extra)
    return data


@pytest.fixture
def assigned_case(demo):
    case = make_case()
    advance(case, "accept", "assign")
    return case


def test_write_an_entry_through_the_page(assigned_case, login):
    med = login("med-320413109201")
    resp = med.post(f"/cases/{assigned_case.id}/diary/new", data=entry_form(assigned_case))
    assert resp.status_code == 302
    entry = db.session.scalar(select(DiaryEntry))
    assert entry.author.username == "med-320413109201" and entry.duration_minutes == 90
    assert entry.positions[str(assigned_case.parties[1].id)] == "老宅给了三子，三子多出"
    page = med.get(f"/cases/{assigned_case.id}").get_data(as_text=True)
    assert "医药费8600元如何分摊" in page and "老宅给了三子，三子多出" in page and "调解日记" in page


@pytest.mark.parametrize("change, message", [
    ({"mode": ""}, "如何进行"),
    ({"occurred_on": "2030-01-01"}, "不能晚于今天"),
    ({"duration_minutes": "0"}, "1 到 1440"),
    ({"issues": "字" * 10001}, "最多 10000 个字"),
])
def test_bad_entries_save_nothing(assigned_case, login, change, message):
    page = login("med-320413109201").post(f"/cases/{assigned_case.id}/diary/new",
                                          data=entry_form(assigned_case, **change)).get_data(as_text=True)
    assert message in page and "按4:3:3分摊" in page
    assert db.session.scalar(select(DiaryEntry)) is None


def test_same_day_edit_keeps_history_later_only_amendments(assigned_case, login):
    entry = write_entry(assigned_case)
    med = login("med-320413109201")
    resp = med.post(f"/cases/{assigned_case.id}/diary/{entry.id}/edit",
                    data=entry_form(assigned_case, result="三人都同意了"))
    assert resp.status_code == 302
    db.session.refresh(entry)
    assert entry.result == "三人都同意了"
    revision = db.session.scalar(select(DiaryRevision))
    assert revision.data["result"] == "初步达成一致"
    # Another mediator may not edit it, even today.
    assert login("coord-320413109").get(f"/cases/{assigned_case.id}/diary/{entry.id}/edit").status_code == 403
    # The next day: no edit, only an amendment.
    entry.created_at = entry.created_at - timedelta(days=1)
    db.session.commit()
    resp = med.post(f"/cases/{assigned_case.id}/diary/{entry.id}/edit", data=entry_form(assigned_case, result="偷偷改"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/diary/{entry.id}/amend")
    db.session.refresh(entry)
    assert entry.result == "三人都同意了"
    resp = med.post(f"/cases/{assigned_case.id}/diary/{entry.id}/amend",
                    data={"text": "分摊比例应为4:4:2", "reason": "记录笔误"})
    assert resp.status_code == 302
    page = med.get(f"/cases/{assigned_case.id}").get_data(as_text=True)
    assert "分摊比例应为4:4:2" in page and "记录笔误" in page
    assert [e.kind for e in assigned_case.events][-3:] == ["diary", "diary_edited", "amended"]


def test_entries_are_never_deleted(assigned_case):
    entry = write_entry(assigned_case)
    db.session.delete(entry)
    with pytest.raises(RuntimeError, match="never deleted"):
        db.session.flush()
    db.session.rollback()
    amendment = Amendment(entry=entry, by=user("med-320413109201"), reason="r", text="t")
    db.session.add(amendment)
    db.session.commit()
    amendment.text = "rewritten"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()


def test_confidential_entries_only_for_the_cases_mediators(assigned_case, login):
    write_entry(assigned_case, confidential=True, issues="背靠背：申请人私下透露的底线")
    write_entry(assigned_case, issues="公开记录")
    assert "私下透露的底线" in login("med-320413109201").get(f"/cases/{assigned_case.id}").get_data(as_text=True)
    page = login("coord-320413109").get(f"/cases/{assigned_case.id}").get_data(as_text=True)
    assert "公开记录" in page and "私下透露的底线" not in page


def test_closing_needs_a_diary_entry(assigned_case):
    advance(assigned_case, "start", "conclude", "follow_up", by="med-320413109201")
    from mediation.cases import workflow

    with pytest.raises(WorkflowError, match="日记"):
        workflow.transition(assigned_case, "close", by=user("med-320413109201"))
    db.session.rollback()
    write_entry(assigned_case)
    advance(assigned_case, "close", by="med-320413109201")


def test_outsiders_cannot_read_or_write(assigned_case, login):
    entry = write_entry(assigned_case)
    for outsider in ("med-320413109202", "coord-320413106"):
        c = login(outsider)
        assert c.get(f"/cases/{assigned_case.id}/diary/new").status_code == 404
        assert c.post(f"/cases/{assigned_case.id}/diary/{entry.id}/amend",
                      data={"text": "x", "reason": "y"}).status_code == 404
    assert db.session.scalar(select(Amendment)) is None


def test_the_same_day_edit_history_is_shown_with_the_entry(assigned_case, login):
    from .factories import user

    entry = write_entry(assigned_case, positions={str(assigned_case.parties[0].id): "三个儿子平摊"})
    med = login("med-320413109201")
    med.post(f"/cases/{assigned_case.id}/diary/{entry.id}/edit",
             data=entry_form(assigned_case, result="三人都同意了", mode="separate",
                             **{f"position-{assigned_case.parties[0].id}": "按4:3:3分摊"}))
    med.post(f"/cases/{assigned_case.id}/diary/{entry.id}/edit",
             data=entry_form(assigned_case, result="三人都同意了，下周签协议", mode="separate",
                             **{f"position-{assigned_case.parties[0].id}": "按4:3:3分摊"}))
    assert len(db.session.scalars(select(DiaryRevision)).all()) == 2
    # Everyone who sees the entry sees how it was edited: who, when, and what changed.
    for viewer in ("med-320413109201", "coord-320413109"):
        page = login(viewer).get(f"/cases/{assigned_case.id}").get_data(as_text=True)
        history = page.split(f'id="entry-{entry.id}-history"')[1].split("</details>")[0]
        assert history.count(user("med-320413109201").display_name) == 2
        first, second = history.split("border-start")[1:3]
        assert "结果与进展" in first and "初步达成一致" in first and "三人都同意了" in first
        assert "调解方式" in first and "面对面" in first and "背靠背" in first
        assert "汤桂珍（申请人）的意见" in first and "三个儿子平摊" in first and "按4:3:3分摊" in first
        assert "三人都同意了，下周签协议" in second and "调解方式" not in second


def test_a_confidential_entrys_history_stays_with_it(assigned_case, login):
    entry = write_entry(assigned_case, confidential=True, issues="背靠背：底线")
    login("med-320413109201").post(f"/cases/{assigned_case.id}/diary/{entry.id}/edit",
                                   data=entry_form(assigned_case, confidential="y", issues="背靠背：新的底线"))
    assert "新的底线" in login("med-320413109201").get(f"/cases/{assigned_case.id}").get_data(as_text=True)
    page = login("coord-320413109").get(f"/cases/{assigned_case.id}").get_data(as_text=True)
    assert "底线" not in page and f'id="entry-{entry.id}-history"' not in page


# --- issue 14: every error at once; the follow-up's own form ---------------------------------------------------

def test_the_diary_form_reports_every_error_at_once_in_a_summary(assigned_case, login):
    """It used to report one problem per submit (the form's, then the service's one by one)."""
    from mediation.cases.models import RiskLevel

    assigned_case.risk_level = RiskLevel.ORANGE  # no face-to-face session
    db.session.commit()
    applicant = assigned_case.parties[0]
    page = login("med-320413109201").post(f"/cases/{assigned_case.id}/diary/new", data=entry_form(
        assigned_case, occurred_on=(local_today() + timedelta(days=1)).isoformat(), duration_minutes="0",
        next_date=local_today().isoformat(), place="村委会😢", **{f"position-{applicant.id}": "同意<b>分摊</b>"},
    )).get_data(as_text=True)
    summary = page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    for expected in ('href="#occurred_on"', "不能晚于今天", 'href="#duration_minutes"', 'href="#mode"', "面对面",
                     'href="#place"', "U+1F622", f'href="#position-{applicant.id}"', "尖括号"):
        assert expected in summary, expected
    assert db.session.scalar(select(DiaryEntry)) is None
    # The date alone, as a crafted request would send it, is refused by the service as well.
    from mediation.diary.models import EntryKind
    from mediation.diary.services import write_entry as write
    from mediation.errors import DomainError

    with pytest.raises(DomainError) as refused:
        write(assigned_case, by=user("med-320413109201"), values={
            "kind": EntryKind.CALL, "occurred_on": local_today() + timedelta(days=1), "mode": None})
    assert [f for f, _m in refused.value.errors] == ["occurred_on"]


def test_a_follow_up_has_its_own_form_and_every_field_reaches_its_record_and_the_case_file(assigned_case, login):
    import io
    import re

    from pypdf import PdfReader

    from mediation.diary.models import EntryKind, Performance

    from .factories import make_agreement

    case = assigned_case
    advance(case, "start", by="med-320413109201")
    make_agreement(case)
    advance(case, "conclude", "follow_up", by="med-320413109201")
    med = login("med-320413109201")
    page = med.get(f"/cases/{case.id}/diary/new?kind=follow_up").get_data(as_text=True)
    assert "三个儿子每月各给母亲生活费600元。" in page and 'name="term-0"' in page and 'name="term-1"' in page
    for session_field in ('name="issues"', 'name="proposals"', "调解方式", "争议焦点", "调解方案",
                          'name="confidential"'):
        assert session_field not in page, session_field
    me = user("med-320413109201").id
    assert re.search(rf'<input[^>]*checked[^>]*name="mediator_ids"[^>]*value="{me}"|'
                     rf'<input[^>]*name="mediator_ids"[^>]*value="{me}"[^>]*checked', page)  # the visitor
    applicant = case.parties[0]
    data = {"kind": "follow_up", "occurred_on": (local_today() - timedelta(days=1)).isoformat(), "start_time": "09:40",
            "duration_minutes": "35", "mode": "", "place": "汤桂珍家中（上阳村3组12号）",
            "party_ids": [str(applicant.id)], "mediator_ids": [str(me)], "others_present": "村妇联主任王秀兰",
            "term-0": "performed", "term-1": "partly", "satisfaction": "basically",
            "result": "三个儿子已按月给付生活费，医药费三子尚欠一千元", "remaining_risk": "三子对分摊仍有怨言",
            "next_step": "一个月后电话回访", "next_date": (local_today() + timedelta(days=30)).isoformat()}
    missing = med.post(f"/cases/{case.id}/diary/new", data={**data, "term-1": ""}).get_data(as_text=True)
    assert 'href="#term-1"' in missing and db.session.scalar(select(DiaryEntry)) is None
    assert med.post(f"/cases/{case.id}/diary/new", data=data).status_code == 302
    entry = db.session.scalar(select(DiaryEntry).where(DiaryEntry.kind == EntryKind.FOLLOW_UP))
    assert entry.performance is Performance.PARTLY and [t["performance"] for t in entry.term_performance] == [
        "performed", "partly"]
    typed = ["35分钟", "09:40", "回访方式走访", "汤桂珍家中（上阳村3组12号）", "村妇联主任王秀兰",
             "三个儿子每月各给母亲生活费600元。——已履行", "已垫付医药费8600元三人平摊。——部分履行", "基本满意",
             "三个儿子已按月给付生活费，医药费三子尚欠一千元", "三子对分摊仍有怨言", "一个月后电话回访", "上阳村调解员",
             "汤桂珍"]
    record = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        med.get(f"/cases/{case.id}/diary/{entry.id}/record.pdf").data)).pages))
    bundle = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        med.get(f"/cases/{case.id}/file.pdf").data)).pages))
    for text in typed:
        assert text in record, text
        assert text in bundle, text
    next_visit = local_today() + timedelta(days=30)
    assert f"{next_visit.year}年{next_visit.month}月{next_visit.day}日" in record
    # Its edit uses the same form, with the terms it recorded.
    page = med.get(f"/cases/{case.id}/diary/{entry.id}/edit").get_data(as_text=True)
    assert 'name="term-1"' in page and 'value="partly" checked' in page and 'name="issues"' not in page


def test_a_time_today_that_has_not_come_is_refused_like_a_date_ahead(assigned_case):
    """A morning typed for an afternoon (QA: 23:59 saved at 04:10): refused, with ten minutes'
    grace for a phone's clock; yesterday's evening and today's earlier hours are fine."""
    from datetime import datetime, time

    from mediation.diary import services
    from mediation.timeutil import clock_at, zone

    ten = datetime.combine(local_today(), time(10, 0), tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)
    values = {"kind": EntryKind.SESSION, "mode": None, "occurred_on": local_today()}
    with clock_at(ten):
        def problem(day, at):
            found = dict(services.problems(assigned_case, {**values, "occurred_on": day, "start_time": at}))
            return found.get("start_time")

        assert problem(local_today(), time(10, 30)) == "时间晚于现在。"
        assert problem(local_today(), time(10, 9)) is None  # within the grace
        assert problem(local_today(), time(9, 0)) is None
        assert problem(local_today() - timedelta(days=1), time(23, 59)) is None
