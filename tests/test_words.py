"""Words (issue 14, point 13): what the pages and papers say, in the glossary's terms, with no
doubled labels, stray spaces, internal keys or contradictions."""
import io
import re

from babel.messages.pofile import read_po
from pypdf import PdfReader
from sqlalchemy import select

from mediation import ROOT
from mediation.extensions import db
from mediation.timeutil import local_today

from .factories import advance, make_case, user, write_entry
from .test_cases import intake

PO = ROOT / "mediation" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def text_of(data: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def test_a_lead_names_its_grid_worker_once_and_a_registered_lead_is_not_a_court_case(demo, login):
    from mediation.leads.models import Lead

    grid = login("grid-320413109201")
    empty = grid.get("/leads/").get_data(as_text=True)
    assert "您还没有上报线索" in empty and "网格员在这里上报" not in empty  # spoken to, not about
    grid.post("/leads/new", data={"who": "3组王家", "where": "3组12号", "what": "夫妻吵架", "urgency": "normal"})
    lead = db.session.scalar(select(Lead))
    med = login("med-320413109201")
    page = med.get(f"/cases/new?lead={lead.id}").get_data(as_text=True)
    referrer = re.search(r'<input[^>]*name="referrer"[^>]*>', page).group(0)
    assert 'value="上阳村网格员"' in referrer
    resp = med.post("/cases/new", data=intake(lead_id=str(lead.id), source="grid", referrer="上阳村网格员"))
    assert resp.status_code == 302
    case_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    register = text_of(med.get(f"/cases/{case_id}/intake.pdf").data)
    assert "案件来源：网格员（上阳村网格员）" in register and "（网格员））" not in register
    for who in ("grid-320413109201", "med-320413109201"):
        leads = login(who).get("/leads/").get_data(as_text=True)
        assert "已登记为案件" in leads and "立案" not in leads, who


def test_messages_with_a_case_number_or_a_name_have_no_stray_spaces(demo, login):
    """"案件 （2026）金坛婚调字第0001号 已登记。": no space between Chinese and a value that is Chinese."""
    with open(PO, "rb") as fh:
        catalogue = read_po(fh)
    cjk = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
    values = r"%\((?:number|unit|name|who|date|when|status|action|text)\)s"
    stray = [m.string for m in catalogue if m.id and isinstance(m.string, str)
             and re.search(rf"{cjk} {values}|{values} {cjk}", m.string)]
    assert stray == []
    med = login("med-320413109201")
    resp = med.post("/cases/new", data=intake(), follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert re.search(r"案件（\d{4}）金坛婚调字第\d{4}号已登记。", page), re.findall(r"案件.{0,30}已登记", page)


def test_the_related_notice_counts_no_mixture_of_cases_and_units(demo, login):
    from .test_cases import GOOD_ID

    first = make_case(applicant="汤桂珍", respondent="周国民")
    first.parties[0].id_number = GOOD_ID
    db.session.commit()
    page = login("med-320413109201").post("/cases/new", data=intake(), follow_redirects=True).get_data(as_text=True)
    assert "相同当事人在网络内还涉及其他案件" in page
    assert "件案件或单位" not in page


def test_a_phone_call_is_not_headed_phone_twice(demo, login):
    from mediation.diary.models import EntryKind, SessionMode

    case = advance(make_case(), "accept", "assign")
    write_entry(case, kind=EntryKind.CALL, mode=SessionMode.PHONE)
    page = login("med-320413109201").get(f"/cases/{case.id}").get_data(as_text=True)
    assert "电话 · 电话" not in page and re.search(r"· 电话</strong>", page)


def test_a_first_assignment_asks_no_reason_for_a_change(demo, login):
    case = advance(make_case(), "accept")
    coord = login("coord-320413109")
    first = coord.get(f"/cases/{case.id}/do/assign").get_data(as_text=True)
    assert "变更理由" not in first and 'name="reason"' not in first
    resp = coord.post(f"/cases/{case.id}/do/assign", data={"version": str(case.version),
                                                           "lead_mediator": str(user("med-320413109201").id)})
    assert resp.status_code == 302
    again = coord.get(f"/cases/{case.id}/do/reassign").get_data(as_text=True)
    assert "变更理由" in again


def test_the_password_card_names_the_account(demo, login):
    page = login("med-320413109201").get("/account/password").get_data(as_text=True)
    box = re.search(r'<input[^>]*id="account-username"[^>]*>', page).group(0)
    assert 'value="med-320413109201"' in box and 'autocomplete="username"' in box and "readonly" in box


def test_the_audit_log_shows_labels_never_internal_keys(demo, login, app):
    case = advance(make_case(), "accept", "assign")
    entry = write_entry(case)
    med = login("med-320413109201")
    for url in (f"/cases/{case.id}/intake.pdf", f"/cases/{case.id}/file.pdf", f"/cases/{case.id}/diary.pdf",
                f"/cases/{case.id}/diary/{entry.id}/record.pdf",
                f"/diary/book.pdf?month={local_today().strftime('%Y-%m')}&scope=me",
                f"/diary/book.pdf?month={local_today().strftime('%Y-%m')}&scope=unit"):
        assert med.get(url).status_code == 200, url
    app.test_client().post("/login", data={"username": "med-320413109201", "password": "wrong-password-x"})
    page = login("admin").get("/audit/").get_data(as_text=True)
    labels = re.findall(r'<dt class="[^"]*">([^<]*)</dt>', page)
    values = re.findall(r'<dd class="[^"]*">([^<]*)</dd>', page)
    assert labels and values
    assert not [k for k in labels if re.search(r"[A-Za-z_]", k)], labels
    internal = {"intake", "case_file", "session_record", "diary", "diary_book", "me", "unit", "session",
                "confidential_included", "entry_kind", "True", "False"}
    assert not internal & set(values), sorted(internal & set(values))
    for label in ("打印文书", "含保密记录", "受理登记表和权利义务告知书", "卷宗", "我的记录", "本单位的记录",
                  "密码错误"):
        assert label in page, label


def test_the_monthly_report_says_what_each_row_counts(demo, login):
    page = login("coord-320413109").get("/stats/report").get_data(as_text=True)
    assert "排查发现数（按登记日期计）" in page and "受理数（按受理日期计，含以前登记的）" in page
    assert "协议金额（元）：调解成功和部分成功案件的争议金额之和" in page
    assert ">排查受理数<" not in page and ">受理<" not in page.split('id="report-indicators"', 1)[1]
    csv = login("coord-320413109").get("/stats/report.csv").get_data(as_text=True)
    assert "排查发现数（按登记日期计）" in csv and "受理数（按受理日期计，含以前登记的）" in csv


def test_the_password_card_names_no_username_and_a_missing_category_comes_with_the_other_errors(demo, login):
    from .test_cases import intake

    med = login("med-320413109201")
    home = med.get("/").get_data(as_text=True)
    card = home.split("修改密码", 1)[1].split("</a>", 1)[0]
    assert "med-320413109201" not in card
    page = med.post("/cases/new", data={**intake(), "category": "0", "summary": ""}).get_data(as_text=True)
    summary = page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "请选择纠纷类别" in summary and summary.count("<li") >= 2, summary
