"""Related cases: the same person (ID number, name + birth date, name + phone) in other
cases of the network; a case outside the user's access is announced by its unit only."""
import json
import re
from datetime import date

from sqlalchemy import select

from mediation.cases import services
from mediation.cases.models import Case, Category, PartyRole, RiskLevel, Source
from mediation.extensions import db
from mediation.related.services import related_cases

from .factories import advance, category, unit, user

GOOD_ID = "320482194203181227"  # valid check digit, born 1942-03-18
ELSEWHERE = "320413104200"  # 柚山村, 儒林镇: another town than 上阳村 (薛埠镇)


def party(name, role=PartyRole.APPLICANT, **values):
    data = {"role": role, "name": name, "sex": None, "ethnicity": "汉族", "birth_date": None, "occupation": "",
            "id_number": "", "phone": "", "address": "", "relationship": "", "is_minor": False}
    data.update(values)
    return data


def register(by: str, parties: list[dict], category_code: str = "elder_support") -> Case:
    author = user(by)
    values = {
        "category_id": category(category_code).id, "source": Source.PARTY, "referrer": "",
        "intake_date": date(2026, 11, 2), "summary": "家庭纠纷。", "claims": "", "amount_in_dispute": None,
        "people_involved": 2, "children_involved": 0, "is_major": False, "is_mass": False,
        "risk_level": RiskLevel.NONE, "dv_flag": False, "consent_to_mediate": True,
        "rights_notice_date": date(2026, 11, 2),
    }
    case = services.register_case(unit=author.unit, values=values, parties=parties, by=author)
    db.session.commit()
    return case


def section(page: str, element_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{element_id}".*?</section>', page, re.S)
    return match.group(0) if match else ""


def test_related_case_in_another_town_is_announced_without_any_detail(app, demo, login):
    mine = register("med-320413109201", [
        party("汤桂珍", id_number=GOOD_ID, birth_date=date(1942, 3, 18), phone="13800000101"),
        party("周国民", PartyRole.RESPONDENT)])
    other = register(f"med-{ELSEWHERE}", [
        party("汤桂珍", id_number=GOOD_ID, address="柚山村3组15号"),
        party("蒋国民", PartyRole.RESPONDENT, phone="13800001402")], category_code="inheritance")
    advance(other, "accept", by=f"coord-{ELSEWHERE[:9]}")
    holder = unit(ELSEWHERE)
    secrets = [other.number, other.number[-5:], "蒋国民", "13800001402", "柚山村3组15号",
               "继承", "Inheritance", "inheritance", "accepted", "受理", f"/cases/{other.id}"]

    med = login("med-320413109201")
    # The intake check (JSON), by ID number alone.
    resp = med.post("/related/check", json={"parties": [{"name": "", "id_number": GOOD_ID}], "exclude": mine.id})
    assert resp.status_code == 200
    data = resp.get_json()
    body = json.dumps(data, ensure_ascii=False)
    assert data["related"] == [{"visible": False, "unit": holder.label, "parties": [0]}]
    assert holder.name in data["html"] and '"id"' not in body and '"number"' not in body
    for secret in secrets:
        assert secret not in body, secret

    # The case page: a section naming the unit, nothing else of the other case.
    page = med.get(f"/cases/{mine.id}").get_data(as_text=True)
    related = section(page, "related-cases")
    assert holder.name in related and "related-elsewhere" in related
    for secret in secrets:
        assert secret not in related, secret
    assert f"/cases/{other.id}" not in page


def test_related_cases_within_access_are_linked(app, demo, login):
    first = register("med-320413109201", [party("汤桂珍", birth_date=date(1942, 3, 18)),
                                          party("周国民", PartyRole.RESPONDENT)])
    second = register("med-320413109202", [party("王丽娟", phone="13800000301"),
                                           party("汤桂珍", PartyRole.RESPONDENT, birth_date=date(1942, 3, 18))])
    third = register("med-320413109202", [party("王丽娟", phone="13800000301"), party("诸建强", PartyRole.RESPONDENT)])
    unrelated = register("med-320413109202", [party("汤桂珍"), party("李四", PartyRole.RESPONDENT)])  # name only

    coord = login("coord-320413109")
    page = coord.get(f"/cases/{first.id}").get_data(as_text=True)
    related = section(page, "related-cases")
    assert f'href="/cases/{second.id}"' in related and second.number in related
    assert f"/cases/{unrelated.id}" not in related and f"/cases/{third.id}" not in related

    # Name + phone; the JSON names number, status and unit of a visible case.
    data = coord.post("/related/check", json={"parties": [{"name": "王丽娟", "phone": "138 0000 0301"}],
                                              "exclude": third.id}).get_json()
    assert [(r["visible"], r["id"], r["number"], r["status"]) for r in data["related"]] == [
        (True, second.id, second.number, "registered")]
    assert data["related"][0]["reasons"] == ["phone"]
    assert f"/cases/{second.id}" in data["html"]


def test_service_orders_and_groups(app, demo):
    """Cases out of reach at one unit are announced once (not even their number leaks)."""
    for _ in range(2):
        register(f"med-{ELSEWHERE}", [party("汤桂珍", id_number=GOOD_ID), party("某人", PartyRole.RESPONDENT)])
    visible = register("med-320413109201", [party("汤桂珍", id_number=GOOD_ID), party("周国民", PartyRole.RESPONDENT)])
    found = related_cases(user("med-320413109201"), [{"name": "汤桂珍", "id_number": GOOD_ID.lower()}])
    assert [(r.visible, r.case_id) for r in found] == [(True, visible.id), (False, None)]
    hidden = found[1]
    assert (hidden.number, hidden.status, hidden.case_id, hidden.reasons) == (None, None, None, [])
    assert related_cases(user("med-320413109201"), [{"name": "汤桂珍"}]) == []  # a name alone is not enough


def test_notice_after_registering(app, demo, login):
    register(f"med-{ELSEWHERE}", [party("汤桂珍", id_number=GOOD_ID), party("某人", PartyRole.RESPONDENT)])
    med = login("med-320413109201")
    form = med.get("/cases/new").get_data(as_text=True)
    assert 'id="related-notice"' in form
    data = {
        "unit": str(user("med-320413109201").unit_id), "category": str(category().id), "source": "party",
        "intake_date": "2026-11-20", "summary": "三个儿子为医药费互相推诿。", "people_involved": "4",
        "children_involved": "0", "risk_level": "none", "consent_to_mediate": "y",
        "rights_notice_date": "2026-11-20",
        "parties-0-role": "applicant", "parties-0-name": "汤桂珍", "parties-0-id_number": GOOD_ID,
        "parties-0-birth_date": "1942-03-18",
        "parties-1-role": "respondent", "parties-1-name": "周国民",
    }
    resp = med.post("/cases/new", data=data, follow_redirects=True)
    page = resp.get_data(as_text=True)
    created = db.session.scalar(select(Case).where(Case.unit_id == user("med-320413109201").unit_id))
    assert created is not None, page[:2000]
    assert "alert-warning" in page and unit(ELSEWHERE).name in section(page, "related-cases")


def test_endpoint_needs_case_access(app, demo, login):
    assert login("grid-320413109201").post("/related/check", json={"parties": []}).status_code == 403
    assert app.test_client().post("/related/check", json={"parties": []}).status_code in (302, 401)
    assert login("med-320413109201").post("/related/check", json={"x": 1}).status_code == 400


def test_checks_are_throttled_per_user(app, demo, login):
    """A crawl of ID numbers through the check is stopped; another user is not."""
    app.config["RELATED_CHECKS_PER_WINDOW"] = 5
    mine = login("med-320413109201")
    body = {"parties": [{"name": "汤桂珍", "id_number": "320482194203181227"}]}
    assert [mine.post("/related/check", json=body).status_code for _i in range(5)] == [200] * 5
    r = mine.post("/related/check", json=body)
    assert r.status_code == 429 and "请等待" in r.get_json()["error"]
    assert r.headers["Retry-After"] == str(app.config["LOGIN_WINDOW_MINUTES"] * 60)
    assert login("med-320413109202").post("/related/check", json=body).status_code == 200


def test_matching_columns_are_indexed(app):
    from sqlalchemy import inspect

    indexes = {ix["name"]: ix["column_names"] for ix in inspect(db.engine).get_indexes("party")}
    assert indexes["ix_party_name_birth_date"] == ["name", "birth_date"]
    assert indexes["ix_party_name_phone"] == ["name", "phone"]
    assert "id_hash" in [c for cols in indexes.values() for c in cols]
    assert Category  # noqa: B018


def test_edit_form_masked_ids_and_number_forms_still_match(app, demo, login):
    x_id = "32048219420318122X"
    mine = register("med-320413109201", [party("周国民"), party("汤桂珍", PartyRole.RESPONDENT, id_number=GOOD_ID)])
    other = register("med-320413109202", [party("汤桂珍", id_number=GOOD_ID), party("钱丽", PartyRole.RESPONDENT,
                                                                                   id_number=x_id)])
    third = register("med-320413109202", [party("王丽娟", phone="13800000301"), party("李四", PartyRole.RESPONDENT)])
    masked = next(p.id_masked for p in mine.parties if p.name == "汤桂珍")
    assert "*" in masked
    coord = login("coord-320413109")
    # The edit form's live check: the masked number of the stored party (card 1), as FormData.
    data = coord.post("/related/check", data={"parties-0-name": "周国民", "parties-1-name": "汤桂珍",
                                              "parties-1-id_number": masked, "exclude": str(mine.id)},
                      headers={"X-CSRFToken": "x"}).get_json()
    assert [r.get("id") for r in data["related"]] == [other.id]
    assert data["related"][0]["reasons"] == ["id"] and data["related"][0]["parties"] == [1]
    # A masked number is never matched without the case it comes from.
    data = coord.post("/related/check", json={"parties": [{"name": "", "id_number": masked}]}).get_json()
    assert data["related"] == []
    # Full-width digits, a lower-case x; a phone with +86 / 0086 and full-width digits.
    wide = "３２０４８２１９４２０３１８１２２ｘ"
    data = coord.post("/related/check", json={"parties": [{"name": "", "id_number": wide}]}).get_json()
    assert [r["id"] for r in data["related"]] == [other.id]
    for phone in ("+86 138 0000 0301", "0086-13800000301", "１３８０００００３０１"):
        data = coord.post("/related/check", json={"parties": [{"name": "王丽娟", "phone": phone}]}).get_json()
        assert [r["id"] for r in data["related"]] == [third.id], phone


def test_restricted_cases_and_protected_phones_are_never_confirmed(app, demo, login):
    victim = register("med-320413109201", [party("周秀兰", phone="13911112222"),
                                           party("马某", role=PartyRole.RESPONDENT)])
    victim.dv_flag = True
    db.session.commit()
    elsewhere = login(f"med-{ELSEWHERE}")
    probe = {"parties": [{"name": "周秀兰", "phone": "13911112222"}]}
    # A guessed phone of a protected party confirms nothing outside the case.
    assert "薛埠镇" not in json.dumps(elsewhere.post("/related/check", json=probe).get_json(), ensure_ascii=False)
    # The same by birth date would be announced; once restricted, not even that.
    victim.parties[0].birth_date = date(1980, 1, 2)
    db.session.commit()
    by_birth = {"parties": [{"name": "周秀兰", "birth_date": "1980-01-02"}]}
    assert "薛埠镇" in json.dumps(elsewhere.post("/related/check", json=by_birth).get_json(), ensure_ascii=False)
    victim.restricted = True
    db.session.commit()
    for who in (f"med-{ELSEWHERE}", "admin"):
        answer = json.dumps(login(who).post("/related/check", json=by_birth).get_json(), ensure_ascii=False)
        assert "薛埠镇" not in answer and "上阳村" not in answer, who
