"""The network: the packaged Jintan file, the import rules, the tree pages and unit editing."""
import re

import pytest
from sqlalchemy import func, select

from mediation.demo import network_csv
from mediation.extensions import db
from mediation.org.models import OrgUnit, Tier
from mediation.org.services import NetworkImportError, import_network

HEADER = "code,name,tier,parent_code\n"
BASE = HEADER + "9000,测试区,station,\n9001,甲镇,platform,9000\n9002,乙镇,platform,9000\n900101,上村,village,9001\n"


def counts():
    return dict(db.session.execute(select(OrgUnit.tier, func.count()).group_by(OrgUnit.tier)).all())


def test_packaged_jintan_network_is_1_9_131(app):
    result = import_network(network_csv())
    db.session.commit()
    assert result.created == 141
    assert counts() == {Tier.STATION: 1, Tier.PLATFORM: 9, Tier.VILLAGE: 131}
    xuebu = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "320413109"))
    assert xuebu.name == "薛埠镇" and len(xuebu.children) == 24
    shangyang = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "320413109201"))
    assert shangyang.name == "上阳村" and shangyang.path == f"{xuebu.path}{shangyang.id}/"
    # Names repeat: the label carries the parent.
    xinhe = db.session.scalars(select(OrgUnit).where(OrgUnit.name == "新河村")).all()
    assert sorted(u.label for u in xinhe) == ["新河村（指前镇）", "新河村（直溪镇）"]


def test_import_is_an_idempotent_upsert(app):
    import_network(BASE.encode())
    again = import_network(BASE.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    moved = BASE.replace("900101,上村,village,9001", "900101,上庄村,village,9002")
    result = import_network(moved.encode())
    db.session.commit()
    assert (result.created, result.updated) == (0, 1)
    village = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "900101"))
    assert village.name == "上庄村" and village.parent.code == "9002"
    assert village.path == f"{village.parent.path}{village.id}/"


@pytest.mark.parametrize(
    "body, line, words",
    [
        (BASE + "900102,下村,village,9999\n", 6, "9999"),  # unknown parent
        (BASE + "900101,重复村,village,9001\n", 6, "900101"),  # duplicate code
        (BASE + "9003,丙镇,village,9000\n", 6, ""),  # wrong tier order: village under station
        (BASE + "900103,某村,platform,9001\n", 6, ""),  # platform under platform
        (HEADER + "9000,测试区,station,\n9001,甲镇,platform,9002\n9002,乙镇,platform,9001\n", 3, ""),  # cycle
        (BASE + "9004,无名,town,9000\n", 6, "town"),  # unknown tier
        (BASE + ",空代码,village,9001\n", 6, ""),
    ],
)
def test_malformed_files_change_nothing_and_name_the_line(app, body, line, words):
    import_network(BASE.encode())
    db.session.commit()
    before = {(u.code, u.name, u.parent_id, u.path) for u in db.session.scalars(select(OrgUnit))}
    with pytest.raises(NetworkImportError) as exc:
        import_network(body.encode())
    db.session.rollback()
    message = "\n".join(exc.value.errors)
    assert f"第 {line} 行" in message
    assert words in message
    after = {(u.code, u.name, u.parent_id, u.path) for u in db.session.scalars(select(OrgUnit))}
    assert after == before


def test_bad_encoding_is_rejected_with_its_line(app):
    body = (HEADER + "9000,测试区,station,\n9001,甲镇,platform,9000\n").encode("gbk")
    with pytest.raises(NetworkImportError) as exc:
        import_network(body)
    assert "第 2 行" in exc.value.errors[0] and "UTF-8" in exc.value.errors[0]
    assert counts() == {}


def test_a_bad_line_late_in_a_big_file_writes_nothing(app):
    body = network_csv() + "320413999999,坏村,village,320413999\n".encode()
    with pytest.raises(NetworkImportError) as exc:
        import_network(body)
    db.session.rollback()
    assert "第 143 行" in exc.value.errors[0]
    assert counts() == {}


def test_cli_import(runner, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(BASE, encoding="utf-8")
    result = runner.invoke(args=["network", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "新增 4 个" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(BASE + "900102,下村,village,9999\n", encoding="utf-8")
    result = runner.invoke(args=["network", "import", str(bad)])
    assert result.exit_code == 1
    assert "第 6 行" in result.output and "未导入任何内容" in result.output
    assert db.session.scalar(select(func.count(OrgUnit.id))) == 4


# --- pages ---------------------------------------------------------------------

def unit_links(page: str) -> set[str]:
    return set(re.findall(r'href="/units/(\w+)"', page))


def test_tree_counts_by_role(demo, login):
    page = login("admin").get("/units/").get_data(as_text=True)
    assert len(unit_links(page)) == 141
    assert "驿站（区） 1 · 基层平台（镇/街道） 9 · 村（社区） 131" in page
    page = login("coord-320413109").get("/units/").get_data(as_text=True)
    assert len(unit_links(page)) == 25
    assert "薛埠镇" in page and "上阳村" in page and "直溪镇" not in page
    xuebu = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "320413109"))
    assert unit_links(page) == {"320413109"} | {c.code for c in xuebu.children}
    page = login("med-320413109201").get("/units/").get_data(as_text=True)
    assert unit_links(page) == {"320413109201"}


def test_unit_page_lists_children_and_users(demo, login):
    page = login("coord-320413109").get("/units/320413109").get_data(as_text=True)
    assert "上阳村" in page and "coord-320413109" in page and "med-320413109201" not in page
    page = login("admin").get("/units/320413109201").get_data(as_text=True)
    assert "上阳村调解员" in page and "上阳村网格员" in page


def test_admin_edits_the_network(demo, login):
    admin = login("admin")
    resp = admin.post("/units/320413109/children", data={"add-code": "320413109999", "add-name": "新建村"})
    assert resp.status_code == 302
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "320413109999"))
    assert unit.tier is Tier.VILLAGE and unit.parent.code == "320413109"
    admin.post("/units/320413109999/rename", data={"rename-name": "新建社区"})
    db.session.refresh(unit)
    assert unit.name == "新建社区"
    zhixi = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "320413106"))
    admin.post("/units/320413109999/move", data={"move-parent": str(zhixi.id)})
    db.session.refresh(unit)
    assert unit.parent_id == zhixi.id and unit.path.startswith(zhixi.path)
    # The coordinator of 直溪镇 now sees it; the one of 薛埠镇 no longer does.
    assert login("coord-320413106").get("/units/320413109999").status_code == 200
    assert login("coord-320413109").get("/units/320413109999").status_code == 404
    admin.post("/units/320413109999/active", data={"active": "0"})
    db.session.refresh(unit)
    assert unit.active is False


def test_two_units_of_one_name_under_one_parent_are_refused(demo, login):
    """QA: a second 上阳村 under 薛埠镇 was added, and every picker then listed 上阳村（薛埠镇） twice."""
    admin = login("admin")
    page = admin.post("/units/320413109/children", data={"add-code": "320413109298", "add-name": " 上阳村 "})
    assert page.status_code == 422 and "薛埠镇下已有名为上阳村的单位" in page.get_data(as_text=True)
    assert db.session.scalar(select(OrgUnit).where(OrgUnit.code == "320413109298")) is None
    admin.post("/units/320413109/children", data={"add-code": "320413109298", "add-name": "上阳新村"})
    page = admin.post("/units/320413109298/rename", data={"rename-name": "上阳村"}, follow_redirects=True)
    assert "已有名为上阳村" in page.get_data(as_text=True)
    assert db.session.scalar(select(OrgUnit.name).where(OrgUnit.code == "320413109298")) == "上阳新村"
    assert admin.post("/units/320413109201/rename", data={"rename-name": "上阳村"}).status_code == 302  # itself


def test_deactivating_a_unit_with_people_is_refused(demo, login):
    resp = login("admin").post("/units/320413109201/active", data={"active": "0"}, follow_redirects=True)
    assert "在用账号" in resp.get_data(as_text=True)
    assert db.session.scalar(select(OrgUnit.active).where(OrgUnit.code == "320413109201")) is True


def test_duplicate_code_in_the_form_is_refused(demo, login):
    resp = login("admin").post("/units/320413109/children",
                               data={"add-code": "320413109201", "add-name": "重复"}, follow_redirects=True)
    assert "已被使用" in resp.get_data(as_text=True)


def test_only_admins_edit_the_network(demo, login):
    coord = login("coord-320413109")
    assert coord.post("/units/320413109/rename", data={"rename-name": "X"}).status_code == 403
    assert coord.post("/units/320413109/children", data={"add-code": "1", "add-name": "X"}).status_code == 403
    # The role check comes first and does not depend on the unit, so it reveals nothing.
    assert coord.post("/units/320413106/rename", data={"rename-name": "X"}).status_code == 403
    assert coord.post("/units/nonexistent/rename", data={"rename-name": "X"}).status_code == 403
    assert db.session.scalar(select(OrgUnit.name).where(OrgUnit.code == "320413109")) == "薛埠镇"


@pytest.mark.parametrize("code, message", [
    ("abc", "12 位数字"), ("32041310920", "12 位数字"), ("3204131092011", "12 位数字"),
    ("320499109299", "320413 开头"), ("320413109201", "已被使用"),
])
def test_added_codes_are_checked_and_typed_text_kept(demo, login, code, message):
    page = login("admin").post("/units/320413109/children", data={"add-code": code, "add-name": "我输入的村名"})
    body = page.get_data(as_text=True)
    assert page.status_code == 422 and message in body and 'value="我输入的村名"' in body
    assert db.session.scalar(select(func.count(OrgUnit.id))) == 141


def test_unit_pickers_follow_the_tree(demo, login):
    page = login("admin").get("/users/new").get_data(as_text=True)
    labels = re.findall(r'<option value="\d+">([^<]+)</option>', page)
    names = [label.strip("　") for label in labels]
    assert names[0] == "金坛区" and names[1] == "西城街道"  # not 尧塘街道 (/1/10/ sorts before /1/2/)
    assert names.index("尧塘街道") > names.index("东城街道")
    assert names.index("上阳村（薛埠镇）") < names.index("东进村（薛埠镇）")
