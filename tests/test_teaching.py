"""e家学 teaching cases (以案释法): drafted from a closed case as an anonymised copy,
checked on every save, approved by the station, published to a library, printed."""
from datetime import date

from sqlalchemy import func, select

from mediation.cases import services
from mediation.cases.models import Case, CaseEvent, PartyRole, RiskLevel, Source
from mediation.diary.models import EntryKind, SessionMode
from mediation.extensions import db
from mediation.teaching.anonymise import Redactor, name_aliases, split_name
from mediation.teaching.models import TeachingCase, TeachingStatus

from .factories import advance, category, make_agreement, user, write_entry

GOOD_ID = "320482194203181227"
NAMES = ["汤桂珍", "周国民", "周国华", "钱丽", "周国"]
SUMMARY = ("汤桂珍今年84岁，住上阳村3组12号，电话13800000101。长子周国民、次子周国华为医药费推诿，"
           "国民说老宅已给周国。钱丽说家里很美丽，小丽也来了。2026年1月13日在上阳村村委会调解，"
           "身份证号320482194203181227。薛埠镇司法所参与，联系电话0519-82812345。金坛区妇联到场。")


def party(name, role, **values):
    data = {"role": role, "name": name, "sex": None, "ethnicity": "汉族", "birth_date": None, "occupation": "",
            "id_number": "", "phone": "", "address": "", "relationship": "", "is_minor": False}
    data.update(values)
    return data


def closed_case(close: bool = True) -> Case:
    author = user("med-320413109201")
    values = {
        "category_id": category().id, "source": Source.PARTY, "referrer": "", "intake_date": date(2026, 11, 2),
        "summary": SUMMARY, "claims": "汤桂珍要求三个儿子每月给生活费。", "amount_in_dispute": None,
        "people_involved": 5, "children_involved": 0, "is_major": False, "is_mass": False,
        "risk_level": RiskLevel.NONE, "dv_flag": False, "consent_to_mediate": True,
        "rights_notice_date": date(2026, 11, 2),
    }
    parties = [
        party("汤桂珍", PartyRole.APPLICANT, id_number=GOOD_ID, phone="13800000101", address="上阳村3组12号",
              birth_date=date(1942, 3, 18), relationship="被申请人之母"),
        party("周国民", PartyRole.RESPONDENT, phone="13800000102", address="上阳村3组14号",
              relationship="申请人之长子"),
        party("周国华", PartyRole.RESPONDENT, phone="13800000103", relationship="申请人之次子"),
        party("钱丽", PartyRole.THIRD_PARTY, relationship="长子之妻"),
        party("周国", PartyRole.THIRD_PARTY, relationship="申请人之三子"),
    ]
    case = services.register_case(unit=author.unit, values=values, parties=parties, by=author)
    db.session.commit()
    advance(case, "accept", "assign", "start")
    ids = {p.name: p.id for p in case.parties}
    write_entry(case, kind=EntryKind.SESSION, mode=SessionMode.JOINT, issues="桂珍老人的医药费怎么分摊",
                positions={str(ids["汤桂珍"]): "汤桂珍：不想给儿子添负担",
                           str(ids["周国民"]): "老宅给了周国，周国应多出"},
                proposals="建议周国民、周国华、周国三人平摊", result="周国华（手机138 0000 0103）也同意",
                next_step="1月15日再到上阳村走访")
    write_entry(case, kind=EntryKind.CALL, mode=SessionMode.PHONE, confidential=True, issues="保密：钱丽的私事")
    make_agreement(case, facts="汤桂珍与周国民、周国华、周国因赡养发生纠纷，周国民住上阳村5组6号。",
                   disputed_points="汤桂珍的医药费分担",
                   terms=[{"content": "周国民、周国华、周国每月各给汤桂珍生活费600元。", "method": "转账到汤桂珍的卡",
                           "deadline": "每月5日前"},
                          {"content": "垫付的医药费8600元三人平摊，2026年12月31日前付清。", "method": "现金",
                           "deadline": "2026年12月31日前"}])
    if close:
        advance(case, "conclude", "follow_up", "close")
    return case


FORBIDDEN = NAMES + ["桂珍", "国民", "国华", "小丽", GOOD_ID, "13800000101", "13800000102", "138 0000 0103",
                     "0519-82812345", "上阳", "薛埠", "金坛", "3组12号", "5组6号", "13日", "15日"]


def form_data(tc: TeachingCase) -> dict:
    """The edit form's fields with the stored text."""
    return {("mediation_process" if f == "process" else f): getattr(tc, f) for f in TeachingCase.TEXT_FIELDS}


def teaching_text(tc: TeachingCase) -> str:
    return "\n".join(getattr(tc, f) for f in TeachingCase.TEXT_FIELDS)


def test_names_split_and_aliases():
    assert split_name("欧阳桂英") == ("欧阳", "桂英")
    assert split_name("汤桂珍") == ("汤", "桂珍")
    assert name_aliases(["汤桂珍", "周国民", "周国华", "钱丽", "周国", "周国民"]) == {
        "汤桂珍": "汤某", "周国民": "周某甲", "周国华": "周某乙", "钱丽": "钱某", "周国": "周某丙"}


def test_draft_is_an_anonymised_copy(app, demo, login):
    case = closed_case()
    before = (case.version, db.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)),
              case.summary, [p.name for p in case.parties])
    med = login("med-320413109201")
    page = med.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="draft-teaching"' in page
    resp = med.post(f"/teaching/from-case/{case.id}")
    assert resp.status_code == 302 and "/edit" in resp.location
    tc = db.session.scalar(select(TeachingCase))
    text = teaching_text(tc)
    for secret in FORBIDDEN:
        assert secret not in text, (secret, text)
    # Consistent aliases, relationship words and ordinary words kept.
    for kept in ("汤某", "周某甲", "周某乙", "周某丙", "钱某", "长子", "次子", "美丽", "某村", "某镇", "某区",
                 "2026年1月某日", "8600元", "600元"):
        assert kept in text, (kept, text)
    assert "保密" not in text  # confidential diary entries stay out
    assert tc.status is TeachingStatus.DRAFT and tc.category_id == case.category_id
    assert Redactor(case).findings(text) == []
    # The case is untouched.
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    after = (case.version, db.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)),
             case.summary, [p.name for p in case.parties])
    assert after == before
    # The edit form shows the anonymised text only.
    page = med.get(f"/teaching/{tc.id}/edit").get_data(as_text=True)
    form = page[page.index('id="teaching-form"'):page.index("</form>", page.index('id="teaching-form"'))]
    assert "周某甲" in form
    for secret in NAMES + [GOOD_ID, "13800000101", "上阳"]:
        assert secret not in form, secret


def test_every_save_is_checked(app, demo, login):
    case = closed_case()
    med = login("med-320413109201")
    med.post(f"/teaching/from-case/{case.id}")
    tc = db.session.scalar(select(TeachingCase))
    good = form_data(tc)
    for bad, shown in [("汤桂珍", "汤桂珍"), ("汤 桂珍", "汤桂珍"), ("国华", "国华"), (GOOD_ID, GOOD_ID),
                       ("13912345678", "13912345678"), ("13800000102", "13800000102"), ("上阳", "上阳"),
                       ("薛埠镇", "薛埠")]:
        resp = med.post(f"/teaching/{tc.id}/edit", data=dict(good, legal_point=f"要点：{bad}"))
        assert resp.status_code == 200, bad
        assert shown in resp.get_data(as_text=True), bad
        db.session.expire_all()
        assert db.session.get(TeachingCase, tc.id).legal_point == "", bad
    # A clean text saves and submits.
    resp = med.post(f"/teaching/{tc.id}/edit",
                    data=dict(good, legal_point="《民法典》第1067条：成年子女不履行赡养义务的，父母有要求赡养费。",
                              submit_for_review="1"))
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(TeachingCase, tc.id).status is TeachingStatus.SUBMITTED


def test_review_publish_library_and_pdf(app, demo, login):
    case = closed_case()
    med = login("med-320413109201")
    med.post(f"/teaching/from-case/{case.id}")
    tc = db.session.scalar(select(TeachingCase))
    admin, stats, coord, other = login("admin"), login("stats"), login("coord-320413109"), login("med-320413109202")
    # A draft shows to its author only.
    assert med.get(f"/teaching/{tc.id}").status_code == 200
    for c in (admin, stats, coord, other):
        assert c.get(f"/teaching/{tc.id}").status_code == 404
        assert c.get(f"/teaching/{tc.id}.pdf").status_code == 404
    # Submitting needs the legal point.
    good = form_data(tc)
    refused = med.post(f"/teaching/{tc.id}/edit", data=dict(good, submit_for_review="1"))
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert 'id="error-summary"' in page and '<div class="alert alert-danger" role="alert">' not in page  # no flash too
    med.post(f"/teaching/{tc.id}/edit", data=dict(good, legal_point="赡养义务不因分家而免除。", submit_for_review="1"))
    assert admin.get(f"/teaching/{tc.id}").status_code == 200
    assert f"/teaching/{tc.id}" in admin.get("/teaching/?view=review").get_data(as_text=True)
    for c in (stats, coord, other):
        assert c.get(f"/teaching/{tc.id}").status_code == 404
    assert coord.post(f"/teaching/{tc.id}/approve").status_code == 403
    # Rejected with a reason, back to the author.
    admin.post(f"/teaching/{tc.id}/reject", data={"reason": "请补充法律依据"})
    db.session.expire_all()
    tc = db.session.get(TeachingCase, tc.id)
    assert tc.status is TeachingStatus.REJECTED and tc.rejection_reason == "请补充法律依据"
    assert admin.get(f"/teaching/{tc.id}").status_code == 404
    assert "请补充法律依据" in med.get(f"/teaching/{tc.id}").get_data(as_text=True)
    med.post(f"/teaching/{tc.id}/edit",
             data=dict(good, legal_point="《民法典》第1067条：赡养义务不因分家而免除。", submit_for_review="1"))
    admin.post(f"/teaching/{tc.id}/approve")
    admin.post(f"/teaching/{tc.id}/publish")
    db.session.expire_all()
    tc = db.session.get(TeachingCase, tc.id)
    assert tc.status is TeachingStatus.PUBLISHED and tc.reviewer_id == user("admin").id
    # Every staff user browses and prints it; grid workers have no library.
    for c in (stats, coord, other):
        assert c.get(f"/teaching/{tc.id}").status_code == 200
        assert f"/teaching/{tc.id}" in c.get(f"/teaching/?category={tc.category_id}").get_data(as_text=True)
    assert f"/teaching/{tc.id}" not in stats.get(f"/teaching/?category={category('divorce').id}").get_data(
        as_text=True)
    assert login("grid-320413109201").get("/teaching/").status_code == 403
    resp = stats.get(f"/teaching/{tc.id}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = resp.data
    assert pdf.startswith(b"%PDF") and b"NotoSansSC" in pdf and b"Helvetica" not in pdf
    assert "teaching.index" in [e for _l, _u, e, _current in nav_of(app, "stats")]


def nav_of(app, username):
    from flask_login import login_user

    from mediation.main.nav import nav_items

    with app.test_request_context("/"):
        login_user(user(username))
        return nav_items()


def test_only_closed_cases_by_their_mediators(app, demo, login):
    case = closed_case(close=False)  # still in mediation
    med = login("med-320413109201")
    assert 'id="draft-teaching"' not in med.get(f"/cases/{case.id}").get_data(as_text=True)
    med.post(f"/teaching/from-case/{case.id}")
    assert login("med-320413109202").post(f"/teaching/from-case/{case.id}").status_code == 404
    advance(case, "conclude", "follow_up", "close")
    assert login("stats").post(f"/teaching/from-case/{case.id}").status_code in (403, 404)
    assert db.session.scalar(select(func.count(TeachingCase.id))) == 0
    assert login("coord-320413109").post(f"/teaching/from-case/{case.id}").status_code == 302  # a manager
    assert db.session.scalar(select(func.count(TeachingCase.id))) == 1


def rare_surname_case() -> Case:
    """A closed case of the 笪 family (a rare surname), with a grid worker of the same surname."""
    author = user("med-320413109201")
    values = {
        "category_id": category().id, "source": Source.PARTY, "referrer": "", "intake_date": date(2026, 2, 7),
        "summary": "网格员笪小军反映，笪俊与母亲吕秀英因房屋翻建发生争执，小俊说母亲偏心，邻居都叫他阿俊。"
                   "2026年2月7日在上阳村1组9号调解，（2026）金坛婚调字第0099号另案。",
        "claims": "笪俊要求母亲把老宅给他。", "amount_in_dispute": None,
        "people_involved": 3, "children_involved": 0, "is_major": False, "is_mass": False,
        "risk_level": RiskLevel.NONE, "dv_flag": False, "consent_to_mediate": True,
        "rights_notice_date": date(2026, 2, 7),
    }
    parties = [party("笪俊", PartyRole.APPLICANT), party("吕秀英", PartyRole.RESPONDENT, relationship="申请人之母")]
    case = services.register_case(unit=author.unit, values=values, parties=parties, by=author)
    db.session.commit()
    advance(case, "accept", "assign", "start")
    write_entry(case, kind=EntryKind.SESSION, mode=SessionMode.JOINT, issues="老宅翻建", result="双方同意",
                next_step="")
    advance(case, "conclude", "follow_up", "close")
    return case


def test_drafts_and_the_check_cover_staff_kin_numbers_dates_addresses_and_units(app, demo, login):
    case = rare_surname_case()
    mediator = user("med-320413109201").display_name
    med = login("med-320413109201")
    med.post(f"/teaching/from-case/{case.id}")
    tc = db.session.scalar(select(TeachingCase))
    text = teaching_text(tc)
    for secret in ("笪小军", "笪俊", "小俊", "阿俊", "婚调字", "0099", "2月7日", "1组9号", "上阳", "金坛", mediator):
        assert secret not in text, (secret, text)
    assert "笪某" in text and "吕某" in text
    assert Redactor(case).findings(text) == []
    good = form_data(tc)
    checks = [
        (case.number, "案号"), ("（2026）金坛婚调字第0003号", "案号"), ("2026年2月7日", "2026年2月7日"),
        ("2月7日", "2月7日"), ("2026-02-07", "2026-02-07"), ("1组9号", "1组9号"), ("3号楼", "3号楼"),
        ("门牌12号", "门牌"), ("上阳村", "上阳村"), ("金坛", "金坛"), ("直溪", "直溪"), ("儒林镇", "儒林"),
        (mediator, mediator), ("小俊", "小俊"), ("阿俊", "阿俊"), ("老俊", "老俊"), ("笪小军", "笪小军"),
    ]
    for bad, shown in checks:
        resp = med.post(f"/teaching/{tc.id}/edit", data=dict(good, legal_point=f"要点：{bad}。"))
        page = resp.get_data(as_text=True)
        assert resp.status_code == 200 and shown in page and "仍含有" in page, bad
        db.session.expire_all()
        assert db.session.get(TeachingCase, tc.id).legal_point == "", bad
    # Common surnames are not taken for relatives; ordinary words stay.
    redactor = Redactor(case)
    assert redactor.findings("王小军来了，笪某给钱给他。文化程度不高。") == []
    resp = med.post(f"/teaching/{tc.id}/edit", data=dict(good, legal_point="《民法典》第1067条：子女应当赡养父母。"))
    assert resp.status_code == 302


def test_two_windows_on_one_draft_do_not_overwrite_each_other(app, demo, login):
    """Issue 13.5: a save from a window opened before another save is refused and says when."""
    import re

    case = closed_case()
    med = login("med-320413109201")
    med.post(f"/teaching/from-case/{case.id}")
    tc = db.session.scalar(select(TeachingCase))
    page = med.get(f"/teaching/{tc.id}/edit").get_data(as_text=True)
    stamp = re.search(r'name="stamp" type="hidden" value="([^"]+)"', page).group(1)
    good = dict(form_data(tc), stamp=stamp)
    assert med.post(f"/teaching/{tc.id}/edit", data=dict(good, legal_point="第一个窗口的要点。")).status_code == 302
    resp = med.post(f"/teaching/{tc.id}/edit", data=dict(good, legal_point="第二个窗口的要点。"))
    assert resp.status_code == 200 and "这个以案释法案例已于" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TeachingCase, tc.id).legal_point == "第一个窗口的要点。"
