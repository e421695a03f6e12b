"""Accounts: login and its throttling, passwords, administration within the subtree."""
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from mediation.extensions import db
from mediation.users.models import LoginAttempt, Role, User

from .conftest import DEMO_PASSWORD


def post_login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_login_and_logout(client, demo):
    assert client.get("/").status_code == 302  # login required
    resp = post_login(client, "med-320413109201", DEMO_PASSWORD)
    assert resp.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "上阳村调解员" in page and "上阳村（薛埠镇）" in page
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(client, demo):
    wrong = post_login(client, "med-320413109201", "not-the-password").get_data(as_text=True)
    unknown = post_login(client, "nobody-here", "not-the-password").get_data(as_text=True)
    assert "用户名或密码错误" in wrong and "用户名或密码错误" in unknown
    assert "未能登录，请更正以下问题" in wrong and "未保存" not in wrong  # nothing was being saved (QA)

    def strip(page):
        page = re.sub(r'name="csrf_token"[^>]*>', "", page)
        return page.replace("med-320413109201", "X").replace("nobody-here", "X")

    assert strip(wrong) == strip(unknown)


def test_ten_failures_throttle_the_username_and_the_message_hides_existence(app, client, demo):
    for _ in range(10):
        assert "用户名或密码错误" in post_login(client, "med-320413109201", "wrong").get_data(as_text=True)
    page = post_login(client, "med-320413109201", DEMO_PASSWORD).get_data(as_text=True)
    assert "登录失败次数过多" in page  # even the right password waits now
    assert client.get("/").status_code == 302
    for _ in range(10):
        post_login(client, "ghost-user", "wrong")
    assert "登录失败次数过多" in post_login(client, "ghost-user", "wrong").get_data(as_text=True)
    # Another account from the same address is not locked by these 20 failures (limit 50).
    assert post_login(app.test_client(), "med-320413109202", DEMO_PASSWORD).status_code == 302


def test_throttling_is_persisted_and_per_address(app, demo):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 5
    for i in range(5):
        post_login(app.test_client(), f"user{i}", "wrong")
    # A fresh client (think: another worker process) still sees the block from the database.
    page = post_login(app.test_client(), "med-320413109201", DEMO_PASSWORD).get_data(as_text=True)
    assert "登录失败次数过多" in page
    assert db.session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.success.is_(False))) == 5


def test_a_success_resets_the_username_count(client, demo):
    for _ in range(9):
        post_login(client, "med-320413109201", "wrong")
    assert post_login(client, "med-320413109201", DEMO_PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(9):
        post_login(client, "med-320413109201", "wrong")
    assert post_login(client, "med-320413109201", DEMO_PASSWORD).status_code == 302


def test_passwords_are_scrypt_hashes(demo):
    user = db.session.scalar(select(User).where(User.username == "admin"))
    assert user.password_hash.startswith("scrypt:")
    assert DEMO_PASSWORD not in user.password_hash


def test_change_own_password(login, app, demo):
    c = login("med-320413109201")
    page = c.post("/account/password", data={"old_password": "wrong", "password": "Qiu-2026-tea",
                                             "confirm": "Qiu-2026-tea"}).get_data(as_text=True)
    assert "当前密码不正确" in page
    page = c.post("/account/password", data={"old_password": DEMO_PASSWORD, "password": "1234567890",
                                             "confirm": "1234567890"}).get_data(as_text=True)
    assert "太容易被猜到" in page
    page = c.post("/account/password", data={"old_password": DEMO_PASSWORD, "password": "short",
                                             "confirm": "short"}).get_data(as_text=True)
    assert "至少需要 10 个字符" in page
    resp = c.post("/account/password", data={"old_password": DEMO_PASSWORD, "password": "Qiu-2026-tea",
                                             "confirm": "Qiu-2026-tea"})
    assert resp.status_code == 302
    assert c.get("/").status_code == 200  # this session survives the change
    assert post_login(app.test_client(), "med-320413109201", DEMO_PASSWORD).status_code == 200
    assert post_login(app.test_client(), "med-320413109201", "Qiu-2026-tea").status_code == 302


def test_guesses_at_the_current_password_are_throttled(login, app, demo):
    app.config["LOGIN_MAX_FAILURES_PER_USERNAME"] = 3
    c = login("med-320413109201")
    new = {"password": "Qiu-2026-tea", "confirm": "Qiu-2026-tea"}
    for _i in range(3):
        assert "当前密码不正确" in c.post("/account/password", data={"old_password": "guess", **new}).get_data(
            as_text=True)
    page = c.post("/account/password", data={"old_password": DEMO_PASSWORD, **new}).get_data(as_text=True)
    assert "密码错误次数过多" in page  # even the right one, until the window ends
    assert post_login(app.test_client(), "med-320413109201", DEMO_PASSWORD).status_code == 302  # login unaffected
    assert "当前密码错误" in login("admin").get("/audit/").get_data(as_text=True)  # each wrong guess is logged


def test_parallel_guesses_at_the_current_password_get_no_more_checks_than_the_limit(app, demo):
    """Each try is counted before the password is checked: of many guesses sent at once,
    exactly the limit are checked (the rest are refused unchecked)."""
    import threading

    from mediation.errors import DomainError
    from mediation.users import services
    from mediation.users.models import User

    app.config["LOGIN_MAX_FAILURES_PER_USERNAME"] = 3
    user_id = db.session.scalar(select(User.id).where(User.username == "med-320413109201"))
    db.session.remove()
    checked, barrier = [], threading.Barrier(8)

    def guess():
        with app.test_request_context():
            me = db.session.get(User, user_id)
            barrier.wait()
            try:
                services.change_password(me, "guess", "Qiu-2026-tea")
            except DomainError as exc:
                checked.append(exc.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=guess) for _i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(checked).count("当前密码不正确。") == 3 and len(checked) == 8


def test_admin_creates_edits_deactivates_and_resets(login, app, demo):
    admin = login("admin")
    shangyang = "320413109201"
    page = admin.get(f"/users/new?unit={shangyang}").get_data(as_text=True)
    assert "上阳村（薛埠镇）" in page
    from mediation.org.models import OrgUnit

    unit_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == shangyang))
    form = {"username": "wang.fang", "display_name": "王芳", "phone": "13800001234",
            "unit": str(unit_id), "roles": ["mediator", "coordinator"], "password": "Lotus-pond-77"}
    resp = admin.post("/users/new", data=form)
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "wang.fang"))
    assert user.roles == {Role.MEDIATOR, Role.COORDINATOR} and user.unit.code == shangyang
    # The same username again is refused and nothing is added.
    page = admin.post("/users/new", data=form).get_data(as_text=True)
    assert "已被占用" in page
    assert db.session.scalar(select(func.count(User.id)).where(User.username == "wang.fang")) == 1
    # Bad phone: message beside the field, values kept.
    page = admin.post("/users/new", data=dict(form, username="li.na", phone="12345")).get_data(as_text=True)
    assert "11 位手机号" in page and 'value="li.na"' in page
    # Logged in elsewhere, then deactivated: that session ends and login fails.
    assert user.must_change_password  # the admin set it: the user chooses their own at first login
    other = login("wang.fang", "Lotus-pond-77")
    assert other.get("/account/password").status_code == 200
    admin.post(f"/users/{user.id}/active", data={"active": "0"})
    assert other.get("/account/password").status_code == 302
    assert post_login(app.test_client(), "wang.fang", "Lotus-pond-77").status_code == 200
    admin.post(f"/users/{user.id}/active", data={"active": "1"})
    # Reset: a one-time password shown once, to be changed at once.
    detail = admin.get(f"/users/{user.id}").get_data(as_text=True)
    key = re.search(r'action="/users/\d+/reset".*?name="submission_key" value="([^"]+)"', detail, re.S).group(1)
    page = admin.post(f"/users/{user.id}/reset", data={"submission_key": key}).get_data(as_text=True)
    temporary = re.search(r'id="temporary-password">([0-9a-f-]+)<', page).group(1)
    # QA: reloading the result page posted again and reset the password once more.
    again = admin.post(f"/users/{user.id}/reset", data={"submission_key": key})
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/users/{user.id}")
    assert "已在那个页面重置过" in admin.get(again.headers["Location"]).get_data(as_text=True)
    c = login("wang.fang", temporary)
    assert c.get("/units/").headers["Location"].endswith("/account/password")
    c.post("/account/password", data={"old_password": temporary, "password": "Fresh-lily-88",
                                       "confirm": "Fresh-lily-88"})
    assert c.get("/units/").status_code == 200


def test_admin_cannot_deactivate_self(login, demo):
    admin = login("admin")
    me = db.session.scalar(select(User).where(User.username == "admin"))
    assert f"/users/{me.id}/active" not in admin.get(f"/users/{me.id}").get_data(as_text=True)  # not offered (QA)
    page = admin.post(f"/users/{me.id}/active", data={"active": "0"}, follow_redirects=True).get_data(as_text=True)
    assert "不能停用您自己的账号" in page


def user_id_of(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def test_the_people_list_pages_by_cursor_through_every_account_once(login, demo, app):
    """People page 50 at a time after a cursor (a province holds 50,000 accounts): every
    account in scope once, units in tree order, back links that return the same page."""
    app.config["COUNT_BOUND"] = 60
    admin = login("admin")
    expected = db.session.scalar(select(func.count()).select_from(User))
    assert expected > 100  # three pages at least
    seen, pages, url = [], [], "/users/"
    while url:
        page = admin.get(url).get_data(as_text=True)
        names = re.findall(r"<td>([A-Za-z0-9_.-]+)</td>", page)
        assert len(names) <= 50
        pages.append((url, names))
        seen += names
        nxt = re.search(r'rel="next" href="([^"]+)"', page)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert len(seen) == len(set(seen)) == expected
    assert "(60+)" in admin.get("/users/").get_data(as_text=True)  # counted to the bound, no further
    # Units in tree order: the station's people first, then each town followed by its villages.
    units = [db.session.scalar(select(User).where(User.username == n)).unit.code for n in seen]
    assert units == sorted(units) and units[0] == "320413"
    # "Previous" from the third page gives the second again.
    third = admin.get(pages[2][0]).get_data(as_text=True)
    prev = re.search(r'rel="prev" href="([^"]+)"', third).group(1).replace("&amp;", "&")
    assert re.findall(r"<td>([A-Za-z0-9_.-]+)</td>", admin.get(prev).get_data(as_text=True)) == pages[1][1]
    # A forged cursor starts from the top; filters go along with the cursor.
    assert admin.get("/users/?after=%00").status_code == 400
    for forged in ("x~y~z", "320413~a~b", "320413~" + "a" * 70, "320413~%7E", "320413~a%20b"):
        assert re.findall(r"<td>([A-Za-z0-9_.-]+)</td>", admin.get(f"/users/?after={forged}").get_data(as_text=True)) \
            == pages[0][1]
    # Past the last account: nothing listed, and a way back to the first page (QA).
    beyond = admin.get("/users/?after=zzzz~zzzz").get_data(as_text=True)
    first = re.search(r'class="page-link" href="(/users/[^"]*)"', beyond.split('class="list-pager"')[1]).group(1)
    assert "没有符合条件的账号" in beyond and "after=" not in first and "before=" not in first
    before_start = admin.get("/users/?before=000000000000~a").get_data(as_text=True)  # nothing before it (QA)
    assert 'class="list-pager"' in before_start and "没有符合条件的账号" in before_start
    # A town's page leads to everyone in it and below, with its active count told apart (QA).
    town = admin.get("/units/320413109").get_data(as_text=True)
    assert 'href="/users/?unit=320413109"' in town
    # The menu marks the page's section as current, for screen readers too (QA).
    assert 'aria-current="page" href="/units/"' in town
    assert 'aria-current="page" href="/users/"' in admin.get(f"/users/{user_id_of('med-320413109201')}") \
        .get_data(as_text=True)
    listed_here = re.findall(r"<td>([A-Za-z0-9_.-]+)</td>", admin.get("/users/?unit=320413109").get_data(as_text=True))
    assert "coord-320413109" in listed_here and all(n.split("-")[1].startswith("320413") for n in listed_here)
    mediators = admin.get("/users/?role=mediator").get_data(as_text=True)
    assert "role=mediator" in re.search(r'rel="next" href="([^"]+)"', mediators).group(1)


def test_coordinator_sees_subtree_users_only(login, demo):
    coord = login("coord-320413109")
    page = coord.get("/users/?q=320413109201").get_data(as_text=True)
    assert "med-320413109201" in page and "grid-320413109201" in page
    listed = re.findall(r"<td>([\w.-]+)</td>", coord.get("/users/").get_data(as_text=True))
    assert "coord-320413109" in listed and "med-320413401201" in listed  # 茅山 villages are in 薛埠镇
    assert not [u for u in listed if u.startswith(("med-320413106", "coord-320413106", "admin", "stats"))]
    assert re.findall(r"<td>([\w.-]+)</td>", coord.get("/users/?q=320413106").get_data(as_text=True)) == []
    for wildcard in ("%25", "_", "%25%25", "med-320413109_01"):  # letters as typed, not LIKE wildcards (QA)
        assert re.findall(r"<td>([\w.-]+)</td>", coord.get(f"/users/?q={wildcard}").get_data(as_text=True)) == []
    other = db.session.scalar(select(User).where(User.username == "med-320413106005"))
    assert coord.get(f"/users/{other.id}").status_code == 404
    mine = db.session.scalar(select(User).where(User.username == "med-320413109201"))
    assert coord.get(f"/users/{mine.id}").status_code == 200
    # Coordinators see but do not administer.
    assert coord.get("/users/new").status_code == 403
    assert coord.post(f"/users/{mine.id}/reset").status_code == 403


def test_cli_users_create(runner, demo):
    result = runner.invoke(args=["users", "create", "--username", "zhao.lei", "--unit", "320413106",
                                 "--role", "coordinator", "--role", "mediator", "--password", "Bamboo-hill-9"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "zhao.lei"))
    assert user.unit.code == "320413106" and user.roles == {Role.COORDINATOR, Role.MEDIATOR}
    result = runner.invoke(args=["users", "create", "--username", "x1", "--unit", "nope",
                                 "--role", "mediator", "--password", "Bamboo-hill-9"])
    assert result.exit_code != 0 and "单位 nope 不存在" in result.output


def test_account_form_shows_every_error_at_once(login, demo):
    page = login("admin").post("/users/new", data={"username": "ab", "display_name": "", "phone": "123",
                                                   "unit": "1", "password": "1"}).get_data(as_text=True)
    summary = page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    # In the summary as on the page: username first, the password last.
    places = [summary.find(m)
              for m in ("3 到 64 个", "请填写名称", "11 位手机号", "请至少选择一个角色", "至少需要 10 个字符")]
    assert -1 not in places and places == sorted(places), places


def test_usernames_are_case_insensitive(login, demo, app):
    admin = login("admin")
    from mediation.org.models import OrgUnit

    unit_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "320413109"))
    page = admin.post("/users/new", data={"username": "ADMIN", "display_name": "冒名", "unit": str(unit_id),
                                          "roles": ["mediator"], "password": "Lotus-pond-77"}).get_data(as_text=True)
    assert "已被占用" in page
    assert post_login(app.test_client(), "Admin", DEMO_PASSWORD).status_code == 302


def test_proxy_headers_are_trusted_only_when_configured(db_url, demo):
    from .conftest import make_app

    app = make_app(db_url, PROXY_COUNT=1, LOGIN_MAX_FAILURES_PER_ADDRESS=3)
    for i in range(3):
        app.test_client().post("/login", data={"username": f"u{i}", "password": "x"},
                               headers={"X-Forwarded-For": "10.9.8.7"})
    blocked = app.test_client().post("/login", data={"username": "admin", "password": DEMO_PASSWORD},
                                     headers={"X-Forwarded-For": "10.9.8.7"})
    assert "登录失败次数过多" in blocked.get_data(as_text=True)
    other = app.test_client().post("/login", data={"username": "admin", "password": DEMO_PASSWORD},
                                   headers={"X-Forwarded-For": "10.1.1.1"})
    assert other.status_code == 302


def test_language_chosen_before_login_sticks(client, demo):
    client.post("/account/language", data={"lang": "en", "next": "/login"})
    post_login(client, "med-320413109201", DEMO_PASSWORD)
    assert "Hello" in client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(User.locale).where(User.username == "med-320413109201")) == "en"


def test_a_nul_in_the_username_is_a_failed_login_not_an_error(client, demo):
    resp = post_login(client, "ad\x00min", "x")
    assert resp.status_code == 400 and "无法保存的字符" in resp.get_data(as_text=True)


def test_a_success_does_not_reset_the_address_count(app, demo):
    """Issue 13: one known account must not let an address guess at the others for ever."""
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 5
    for i in range(3):
        post_login(app.test_client(), f"user{i}", "wrong")
    assert post_login(app.test_client(), "med-320413109201", DEMO_PASSWORD).status_code == 302
    for i in range(2):
        post_login(app.test_client(), f"other{i}", "wrong")
    page = post_login(app.test_client(), "med-320413109202", DEMO_PASSWORD).get_data(as_text=True)
    assert "登录失败次数过多" in page


def test_guesses_from_elsewhere_do_not_lock_the_owner_out(app, demo):
    """The per-username limit holds per address: an attacker locks only their own address."""
    attacker, owner = {"REMOTE_ADDR": "10.0.0.66"}, {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(10):
        app.test_client().post("/login", data={"username": "admin", "password": "wrong"}, environ_base=attacker)
    blocked = app.test_client().post("/login", data={"username": "admin", "password": DEMO_PASSWORD},
                                     environ_base=attacker)
    assert "登录失败次数过多" in blocked.get_data(as_text=True)
    assert app.test_client().post("/login", data={"username": "admin", "password": DEMO_PASSWORD},
                                  environ_base=owner).status_code == 302


def test_parallel_guesses_get_no_more_tries_than_the_limit(app, demo):
    """40 guesses at once (think: several workers): exactly 10 are checked, the rest refused."""
    barrier = threading.Barrier(8)

    def guess(i):
        if i < 8:
            barrier.wait()
        return app.test_client().post("/login", data={"username": "admin", "password": f"guess{i}"},
                                      environ_base={"REMOTE_ADDR": "10.0.0.99"}).get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(guess, range(40)))
    checked = db.session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.username == "admin"))
    assert checked == 10
    assert sum("登录失败次数过多" in p for p in pages) == 30
