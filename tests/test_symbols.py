"""Emoji and symbols on official documents (issue 14, point 8): one rule for every text field
(``forms.symbol_problem``), naming the character; names keep CJK of every extension plane and
the middle dot of minority names; and the embedded font prints every character the rule lets
through on purpose (a glyph the font lacks would print as a blank, MACHINE.md)."""
import pytest

from mediation.forms import PRINTABLE_SYMBOLS, symbol_problem, text_problem


@pytest.mark.parametrize("text, named", [
    ("老人天天哭😢", "U+1F622"), ("䶮👵", "U+1F475"), ("👍🏽", "U+1F3FD"), ("❤️", "U+FE0F"), ("1️⃣", "U+20E3"),
    ("👨\u200d👩", "U+200D"), ("☎", "U+260E"), ("©", "U+00A9"), ("私\ue000", "U+E000"), ("⽤", "U+2F64"),
    ("🇨🇳", "U+1F1E8"),
])
def test_pictographs_and_symbols_are_refused_naming_the_character(app, text, named):
    problem = text_problem(text)
    assert problem and named in problem


def test_an_invisible_character_is_not_called_an_emoji(app):
    problem = text_problem("王\u200b芳")
    assert "U+200B" in problem and "不可见" in problem and "表情" not in problem


def test_markup_and_an_emoji_are_told_at_once(app):
    """QA: "他说<b>很生气</b>😡" was refused for the brackets, then, after they went, for the emoji."""
    problem = text_problem("他说<b>很生气</b>😡")
    assert "<b>" in problem and "U+1F621" in problem


@pytest.mark.parametrize("text", [
    "汤桂珍", "李𬌗", "王䶮", "阿依古丽·买买提", "迪丽热巴・迪力木拉提", "Zhang San-Li", "Nguyễn Thị",
    "体温38.5℃，住房120㎡，第3号", "①②③", "（2026）金坛婚调字第0001号", "3组12号、5号楼2单元301室",
    "每月600元；≥3次；¥8,600；50%；A+B", "二〇二六年", "张<三>&", "\U00031350",  # CJK Ext. H, newer than this Python
])
def test_text_and_names_of_every_kind_pass(app, text):
    assert symbol_problem(text) is None, text


def test_the_font_prints_every_character_let_through_on_purpose(app):
    from mediation.printing.pdf import register_fonts

    known = register_fonts()
    needed = set(PRINTABLE_SYMBOLS) | set("𬌗䶮·・〇①②③≥¥％")
    missing = sorted(f"U+{ord(c):04X} {c}" for c in needed if ord(c) not in known)
    assert missing == []


def test_every_text_field_of_every_form_refuses_them(demo, login):
    """The rule sits in the base of every form (AppForm): the lead, the agreement's terms,
    a diary entry's fields and each party's position, an upload's title, a unit's name."""
    from .factories import advance, make_case

    grid = login("grid-320413109201")
    page = grid.post("/leads/new", data={"who": "王家", "where": "3组", "what": "哭了😢", "urgency": "normal"})
    assert "U+1F622" in page.get_data(as_text=True)
    case = make_case()
    advance(case, "accept", "assign", "start")
    med = login("med-320413109201")
    page = med.post(f"/cases/{case.id}/agreement/", data={
        "version": "0", "kind": "written", "reached_on": "2026-11-20", "facts": "赡养😢", "disputed_points": "",
        "terms-0-content": "每月给付600元👍", "terms-0-method": "", "terms-0-deadline": ""}).get_data(as_text=True)
    assert "U+1F622" in page and "U+1F44D" in page
    page = med.post(f"/cases/{case.id}/diary/new", data={
        "kind": "call", "occurred_on": "2026-11-20", "mode": "phone", "result": "同意🙂",
        f"position-{case.parties[0].id}": "不同意😠"}).get_data(as_text=True)
    assert "U+1F642" in page and "U+1F620" in page
    page = login("admin").post("/units/320413109201/rename", data={"rename-name": "上阳村🏠"})
    assert "U+1F3E0" in page.get_data(as_text=True)


def test_a_zero_report_note_with_an_emoji_is_refused(demo, login):
    """The note prints in the monthly report (its PDF too)."""
    from sqlalchemy import func, select

    from mediation.extensions import db
    from mediation.stats.models import MonthlyConfirmation
    from mediation.timeutil import local_today

    first = local_today().replace(day=1)
    last_month = (first.replace(year=first.year - 1, month=12) if first.month == 1
                  else first.replace(month=first.month - 1)).strftime("%Y-%m")
    page = login("med-320413109201").post("/stats/confirm", data={"month": last_month, "note": "本月平安👍"},
                                          follow_redirects=True).get_data(as_text=True)
    assert "U+1F44D" in page
    assert db.session.scalar(select(func.count(MonthlyConfirmation.id))) == 0
