"""Case list export (issue 7, point 4): the filtered list as XLSX and CSV, Chinese
headers, masked names and ID numbers, no phone numbers or addresses, no formulas."""
import csv
import io
import logging
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import load_workbook
from sqlalchemy import select

from mediation.extensions import db
from mediation.search.export import defuse

from .factories import advance, category, make_case, user

ENGLISH = ["Case no.", "Accepting unit", "Unit holding the case", "Dispute category", "Came from", "Intake date",
           "Status", "Result", "Risk level", "Parties", "Mediators", "Due date", "Overdue"]
CHINESE = ["案号", "受理单位", "持有单位", "类别", "来源", "登记日期", "状态", "结果", "风险等级", "当事人", "调解员",
           "期限", "超期"]
ID_NUMBER, PHONE, ADDRESS = "320482194203181227", "13812345678", "薛埠镇上阳村五组十二号"


def _with_contact_details(case):
    p = case.parties[0]
    p.id_number, p.phone, p.address = ID_NUMBER, PHONE, ADDRESS
    case.parties[1].phone = "13900001111"
    db.session.commit()
    return case


def xlsx_rows(resp) -> list[tuple]:
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(resp.data)).active
    return list(ws.iter_rows(values_only=True))


def csv_rows(resp) -> list[list[str]]:
    assert resp.status_code == 200, resp.status_code
    assert resp.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def test_headers_are_the_chinese_report_columns(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        from mediation.search.export import HEADERS

        assert [str(h) for h in HEADERS] == [_(e) for e in ENGLISH]
        assert [_(e) for e in ENGLISH] == CHINESE


def test_xlsx_has_the_filtered_list_masked(demo, login, app):
    a = _with_contact_details(make_case(applicant="汤桂珍", respondent="周国民"))
    b = make_case(applicant="赵敏", respondent="钱多多")
    advance(b, "accept", "assign")
    coord = login("coord-320413109")
    resp = coord.get("/cases/export.xlsx")
    assert "filename*=UTF-8''%E6%A1%88%E4%BB%B6%E5%88%97%E8%A1%A8" in resp.headers["Content-Disposition"]  # 案件列表
    rows = xlsx_rows(resp)
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert list(rows[0]) == [_(e) for e in ENGLISH]
    by_number = {r[0]: r for r in rows[1:]}
    assert set(by_number) == {a.number, b.number}
    ra, rb = by_number[a.number], by_number[b.number]
    assert ra[1] == ra[2] == "上阳村（薛埠镇）"
    assert ra[5].date() == date(2026, 11, 2)  # a date cell, not text
    assert ra[6] == "登记" and rb[6] == "已指派"
    assert ra[9] == "申请人：汤**（3204**********1227）；被申请人：周**"
    assert rb[10] == "上阳村调解员"
    assert rb[11].date() == b.due_date and rb[12] == "否"
    flat = repr(rows)
    for secret in (ID_NUMBER, PHONE, "13900001111", ADDRESS, "汤桂珍", "周国民", "赵敏"):
        assert secret not in flat


def test_csv_follows_the_filters_and_the_order(demo, login):
    a = make_case(applicant="王伟", respondent="李娜")
    b = make_case(applicant="赵敏", respondent="钱多多")
    advance(b, "accept")
    c = make_case(by="med-320413106005", applicant="王伟", respondent="孙丽")
    coord = login("coord-320413109")
    rows = csv_rows(coord.get("/cases/export.csv"))
    assert rows[0][0] == _("Case no.") or rows[0][0] == "案号"
    assert [r[0] for r in rows[1:]] == [b.number, a.number]  # newest first, as the list; not other towns
    assert [r[0] for r in csv_rows(coord.get("/cases/export.csv?sort=number"))[1:]] == [b.number, a.number]
    assert [r[0] for r in csv_rows(coord.get("/cases/export.csv?sort=oldest"))[1:]] == [a.number, b.number]
    assert [r[0] for r in csv_rows(coord.get("/cases/export.csv?status=accepted"))[1:]] == [b.number]
    assert [r[0] for r in csv_rows(coord.get("/cases/export.csv?q=王伟"))[1:]] == [a.number]
    assert [r[0] for r in csv_rows(login("admin").get("/cases/export.csv?q=王伟"))[1:]] == [c.number, a.number]
    assert len(csv_rows(coord.get("/cases/export.csv?from=2030-01-01"))) == 1  # the headers only
    assert rows[2][5] == "2026-11-02" and rows[2][12] == "否"


def test_no_formula_leaves_in_either_file(demo, login):
    cat = category()
    cat.name_zh = "=1+1"
    case = make_case()
    advance(case, "accept", "assign")
    user("med-320413109201").display_name = "@SUM(A1)"
    db.session.commit()
    c = login("coord-320413109")
    row = csv_rows(c.get("/cases/export.csv"))[1]
    assert row[3] == "'=1+1" and row[10] == "'@SUM(A1)"
    ws = load_workbook(io.BytesIO(c.get("/cases/export.xlsx").data)).active
    assert ws["D2"].value == "=1+1" and ws["D2"].data_type == "s"  # text, never a formula
    assert ws["K2"].value == "@SUM(A1)" and ws["K2"].data_type == "s"
    for bad in ("=cmd", "+1", "-2", "@x", "\tx", "\rx"):
        assert defuse(bad) == "'" + bad
    assert defuse("汤**") == "汤**" and defuse(None) is None and defuse(3) == 3


def test_export_needs_case_access_and_is_logged(demo, login, caplog):
    case = make_case()
    assert login("grid-320413109201").get("/cases/export.csv").status_code == 403
    assert login("stats").get("/cases/export.xlsx").status_code == 403
    assert case.number not in login("coord-320413106").get("/cases/export.csv").data.decode("utf-8-sig")
    assert login("admin").get("/cases/export.pdf").status_code == 404
    with caplog.at_level(logging.INFO):
        login("coord-320413109").get("/cases/export.csv?status=registered&q=汤桂珍")
    assert any("case list exported as csv by coord-320413109" in r.getMessage() and "1 cases" in r.getMessage()
               for r in caplog.records)
    assert not any("汤桂珍" in r.getMessage() for r in caplog.records)
    from mediation.audit.models import AuditEvent

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export",
                                                        AuditEvent.actor_name == "coord-320413109")).one()
    assert event.actor_name == "coord-320413109"
    assert event.details == {"list": "cases", "format": "csv", "count": 1,
                             "filters": {"status": "registered", "q": True}}


def test_list_page_offers_the_export_with_its_filters(demo, login):
    make_case()
    page = login("coord-320413109").get("/cases/?status=registered&q=汤").get_data(as_text=True)
    assert "/cases/export.xlsx?" in page and "/cases/export.csv?" in page
    assert "status=registered" in page.split("/cases/export.csv?")[1].split('"')[0]
