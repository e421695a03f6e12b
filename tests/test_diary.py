"""The mediation diary: writing, same-day edits, amendments, confidential entries."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from mediation.cases.workflow import WorkflowError
from mediation.diary.models import Amendment, DiaryEntry, DiaryRevision
from mediation.extensions import db
from mediation.timeutil import local_today

from .factories import advance, make_case, user, write_entry


def entry_form(case, **extra) -> dict:
    data = {"kind": "session", "occurred_on": local_today().isoformat(), "start_time": "14:30",
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
