"""Issue 13.7: a draft's lead is scoped, diary positions are checked like every text field,
intake dates have a lower bound, upload names are cleaned, logins end after 12 hours, and the
case-list CSV names its charset once."""
import io

import pytest
from sqlalchemy import select

from mediation.attachments.models import Attachment
from mediation.attachments.services import clean_filename
from mediation.diary.models import DiaryEntry
from mediation.extensions import db

from .factories import advance, make_case
from .test_cases import intake
from .test_diary import entry_form


def test_a_draft_does_not_open_another_towns_lead(demo, login):
    from mediation.leads.models import Lead

    other_town = login("grid-320413001001")
    other_town.post("/leads/new", data={"who": "外镇的王家", "where": "外镇5组", "what": "外镇的秘密纠纷",
                                        "urgency": "normal"})
    lead = db.session.scalar(select(Lead))
    med = login("med-320413109201")
    assert med.get(f"/cases/new?lead={lead.id}").status_code == 404
    draft_id = med.post("/cases/drafts/autosave", data={"summary": "草稿", "lead_id": str(lead.id)}).get_json()["id"]
    page = med.get(f"/cases/new?draft={draft_id}").get_data(as_text=True)
    assert "外镇的秘密纠纷" not in page and "外镇" not in page


@pytest.fixture
def assigned(demo):
    case = make_case()
    advance(case, "accept", "assign")
    return case


@pytest.mark.parametrize("text, message", [
    ("<b>三子</b>不同意", "尖括号"), ("三子\x07不同意", "控制字符"), ("字" * 5001, "最多 5000 个字"),
])
def test_a_partys_position_is_checked_like_every_text_field(assigned, login, text, message):
    med = login("med-320413109201")
    data = entry_form(assigned, **{f"position-{assigned.parties[1].id}": text})
    resp = med.post(f"/cases/{assigned.id}/diary/new", data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and message in page and 'id="error-summary"' in page
    assert f'href="#position-{assigned.parties[1].id}"' in page  # the summary links to the position
    assert db.session.scalar(select(DiaryEntry)) is None  # nothing saved, nothing cut short
    assert "三子" in page or "字字字" in page  # what was typed is still there


def test_intake_dates_before_2000_are_refused(demo, login):
    page = login("med-320413109201").post("/cases/new", data=intake(intake_date="0001-01-01")).get_data(as_text=True)
    assert "不能早于2000年" in page


@pytest.mark.parametrize("raw, cleaned", [
    ("C:\\fakepath\\IMG_0001.jpg", "IMG_0001.jpg"), ("../../etc/passwd.jpg", "passwd.jpg"),
    ("photo\u202egpj.exe", "photogpj.exe"), ("a\x00b\x1fc.jpg", "abc.jpg"), ("  .  ", "file.jpg"), ("", "file.jpg"),
    ("长" * 300 + ".jpeg", "长" * 115 + ".jpeg"), ("名\u200b字.jpg", "名字.jpg"),
])
def test_upload_names_are_cleaned(raw, cleaned):
    assert clean_filename(raw, ".jpg") == cleaned


def test_an_uploaded_name_is_stored_clean(assigned, login, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    med = login("med-320413109201")
    med.post(f"/cases/{assigned.id}/attachments/", content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "..\\协议\u202e.pdf"), "kind": "other"})
    assert db.session.scalar(select(Attachment.filename)) == "协议.pdf"


def test_a_login_ends_after_twelve_hours_however_busy(demo, login):
    c = login("med-320413109201")
    with c.session_transaction() as sess:
        sess["_started"] -= 11 * 3600
    assert c.get("/").status_code == 200
    with c.session_transaction() as sess:
        sess["_started"] -= 2 * 3600  # 13 hours, active all along
    resp = c.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert "最长有效 12 小时" in c.get(resp.headers["Location"]).get_data(as_text=True)


def test_the_case_list_csv_names_its_charset_once(demo, login):
    resp = login("coord-320413109").get("/cases/export.csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_two_admins_editing_one_account_do_not_overwrite_each_other(demo, login):
    """Issue 13.5: a save from a form filled before another admin's save is refused, naming them."""
    import re

    from mediation.users.models import User

    user = db.session.scalar(select(User).where(User.username == "med-320413109202"))
    first, second = login("admin"), login("admin")  # two administrators' windows
    page = first.get(f"/users/{user.id}/edit").get_data(as_text=True)
    stamp = re.search(r'name="stamp" type="hidden" value="([^"]+)"', page).group(1)
    form = {"display_name": "薛埠村调解员甲", "phone": "", "unit": str(user.unit_id), "roles": ["mediator"],
            "stamp": stamp}
    assert second.post(f"/users/{user.id}/edit", data={**form, "display_name": "薛埠村调解员乙"}).status_code == 302
    page = first.post(f"/users/{user.id}/edit", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已由admin于" in page
    db.session.refresh(user)
    assert user.display_name == "薛埠村调解员乙"


def test_two_renames_of_one_unit_do_not_overwrite_each_other(demo, login):
    import re

    admin = login("admin")
    page = admin.get("/units/320413109202").get_data(as_text=True)
    stamp = re.search(r'name="rename-stamp" type="hidden" value="([^"]+)"', page).group(1)
    assert admin.post("/units/320413109202/rename", data={"rename-name": "薛埠村一", "rename-stamp": stamp}
                      ).status_code == 302
    resp = admin.post("/units/320413109202/rename", data={"rename-name": "薛埠村二", "rename-stamp": stamp})
    assert "已由admin于" in resp.get_data(as_text=True)
    from mediation.org.models import OrgUnit

    assert db.session.scalar(select(OrgUnit.name).where(OrgUnit.code == "320413109202")) == "薛埠村一"


def test_keys_that_no_longer_fit_give_a_clear_503_not_a_server_error(assigned, login):
    """E.g. `keys rotate` run under a live server: the page says what is wrong."""
    from sqlalchemy import text

    db.session.execute(text("UPDATE party SET id_number_enc = 'gAAAAAbroken' WHERE id = :id"),
                       {"id": assigned.parties[0].id})
    db.session.commit()
    resp = login("coord-320413109").get(f"/cases/{assigned.id}/edit")
    assert resp.status_code == 503 and "flask keys check" in resp.get_data(as_text=True)  # (zh: 请管理员运行)


def test_a_file_missing_from_storage_is_not_found(assigned, login, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    med = login("med-320413109201")
    med.post(f"/cases/{assigned.id}/attachments/", content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "scan.pdf"), "kind": "other"})
    attachment = db.session.scalar(select(Attachment))
    for path in tmp_path.iterdir():
        path.unlink()
    assert med.get(f"/cases/{assigned.id}/attachments/{attachment.id}").status_code == 404


def test_attack_findings_give_no_server_error(assigned, login, app, tmp_path):
    """From the attack on issue 13: a month past 9999, a version that is not a number, a PDF of
    thousands of pages, a teaching draft from a restricted case."""
    from pypdf import PdfWriter

    med = login("med-320413109201")
    assert med.get("/diary/book.pdf?month=9999-12").status_code == 404
    for path in ("/diary/?month=9999-12", "/diary/?month=0001-01"):  # on screen: said, and this month shown
        resp = med.get(path)
        assert resp.status_code == 200 and "不是月份" in resp.get_data(as_text=True), path
    page = med.get(f"/cases/{assigned.id}/edit").get_data(as_text=True)
    assert 'name="version"' in page
    resp = med.post(f"/cases/{assigned.id}/edit", data=dict(intake(version="abc"), category=str(
        assigned.category_id)))
    assert resp.status_code == 200 and "请刷新后重新修改" in resp.get_data(as_text=True)
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    writer = PdfWriter()
    for _ in range(201):
        writer.add_blank_page(10, 10)
    buffer = io.BytesIO()
    writer.write(buffer)
    page = med.post(f"/cases/{assigned.id}/attachments/", content_type="multipart/form-data", follow_redirects=True,
                    data={"file": (io.BytesIO(buffer.getvalue()), "big.pdf"), "kind": "other"}).get_data(as_text=True)
    assert "这个PDF文件有 201 页" in page and db.session.scalar(select(Attachment)) is None


def test_a_restricted_case_never_becomes_a_teaching_case(demo):
    from mediation.errors import DomainError
    from mediation.teaching.services import draft_from_case

    from .factories import user

    case = make_case()
    case.restricted = True
    db.session.commit()
    with pytest.raises(DomainError, match="限制访问|restricted"):
        draft_from_case(case, by=user("med-320413109201"))
