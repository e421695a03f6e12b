"""Web security and sensitive fields: CSRF on every POST, cookie flags, the idle timeout,
security headers and a CSP the pages keep, the password policy, no user enumeration,
no stack traces; party ID numbers encrypted at rest, matched by keyed hash, revealed
only with a logged reason."""
import hashlib
import hmac
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select, text

from mediation import create_app
from mediation.audit.models import AuditEvent
from mediation.cases.models import CaseDraft, Party
from mediation.crypto import cipher_for
from mediation.errors import DomainError
from mediation.extensions import db

from .conftest import DEMO_PASSWORD, make_app
from .factories import advance, make_case, user

GOOD_ID = "320482194203181227"


def zh(app, msgid: str, **values) -> str:
    """The Chinese UI's text for ``msgid`` (the msgid itself until its translation is merged)."""
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        return gettext(msgid, **values)


@pytest.fixture
def csrf_app(app, db_url):
    """A second app with CSRF protection on the ``app`` fixture's database (its schema and,
    with ``demo``, the demo network)."""
    csrf = make_app(db_url, WTF_CSRF_ENABLED=True)
    yield csrf
    with csrf.app_context():
        db.session.remove()
        db.engine.dispose()


def token_of(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
    return match.group(1) or match.group(2)


def csrf_login(app, username: str):
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = c.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return c


def post_urls(app) -> list[tuple[str, str]]:
    """Every route that takes a POST, with its arguments filled in: (endpoint, url)."""
    adapter = app.url_map.bind("localhost")
    out = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        values = {arg: 1 if rule._converters[arg].__class__.__name__ == "IntegerConverter" else "320413109201"
                  for arg in rule.arguments}
        out.append((rule.endpoint, adapter.build(rule.endpoint, values)))
    return out


# --- CSRF --------------------------------------------------------------------------

def test_every_post_route_refuses_a_request_without_a_csrf_token(csrf_app, demo):
    from mediation.users.auth import JSON_ENDPOINTS

    app = csrf_app
    case = make_case()
    urls = [(e, u.replace("/cases/1/", f"/cases/{case.id}/")) for e, u in post_urls(app)]
    assert len(urls) >= 20  # the whole app, not a sample
    expired = zh(app, "The form has expired")
    admin = csrf_login(app, "admin")
    db.session.rollback()
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    anonymous = app.test_client()
    for endpoint, url in urls:
        resp = admin.post(url, data={"reason": "x", "name": "x", "summary": "x", "active": "0"})
        if url.startswith("/api/"):
            # The JSON API takes no CSRF token because it takes no session: bearer tokens only.
            assert resp.status_code == 401, (url, resp.status_code)
            assert anonymous.post(url, data={"username": "admin"}).status_code == 401, url
            continue
        assert resp.status_code == 400, (url, resp.status_code)
        assert expired in resp.get_data(as_text=True), url
        resp = anonymous.post(url, data={"username": "admin", "password": DEMO_PASSWORD})
        assert resp.status_code == (401 if endpoint in JSON_ENDPOINTS else 400), (url, resp.status_code)
    db.session.rollback()
    # Nothing happened: not even a login (a login is audited).
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before
    # The same request with the page's token goes through.
    page = admin.get("/").get_data(as_text=True)
    assert admin.post("/logout", data={"csrf_token": token_of(page)}).status_code == 302


# --- cookies --------------------------------------------------------------------------

def session_cookie(resp) -> str:
    return next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_is_httponly_lax_and_secure_behind_https(db_url, demo, app, login):
    resp = app.test_client().post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    cookie = session_cookie(resp)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain-HTTP development
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    for extra in ({"PREFERRED_URL_SCHEME": "https"},
                  {"ENV": "production", "SECRET_KEY": "s" * 40, "ID_HASH_KEY": "h" * 64,
                   "ID_ENCRYPTION_KEYS": "kY6wZ0g8a8fS6m3oQbq1dGk9V3iA0mJc2xT5uN7pR4E="}):
        secure = make_app(db_url, **extra)
        assert secure.config["SESSION_COOKIE_SECURE"] is True and secure.config["REMEMBER_COOKIE_SECURE"] is True
        with secure.app_context():
            resp = secure.test_client().post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
            cookie = session_cookie(resp)
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
            db.session.remove()
    # An explicit setting wins.
    explicit = make_app(db_url, ENV="production", SECRET_KEY="s" * 40, SESSION_COOKIE_SECURE=False,
                        ID_HASH_KEY="h" * 64, ID_ENCRYPTION_KEYS="kY6wZ0g8a8fS6m3oQbq1dGk9V3iA0mJc2xT5uN7pR4E=")
    assert explicit.config["SESSION_COOKIE_SECURE"] is False


# --- idle timeout ---------------------------------------------------------------------

def next_of(resp) -> str:
    location = urlsplit(resp.headers["Location"])
    assert location.path == "/login"
    return parse_qs(location.query)["next"][0]


def idle(client, minutes: int) -> None:
    with client.session_transaction() as sess:
        sess["_seen"] = sess["_seen"] - minutes * 60


def test_idle_session_is_logged_out_and_comes_back_where_it_was(app, demo, login):
    c = login("med-320413109201")
    assert c.get("/cases/?view=mine").status_code == 200
    idle(c, 29)
    assert c.get("/cases/?view=mine").status_code == 200  # 29 minutes: still in (and the clock restarts)
    idle(c, 31)
    resp = c.get("/cases/?view=mine")
    assert resp.status_code == 302 and next_of(resp) == "/cases/?view=mine"
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert zh(app, "You were logged out after %(n)d minutes without activity. Please log in again.", n=30) in page
    assert c.get("/cases/").status_code == 302  # really logged out
    resp = c.post("/login?next=%2Fcases%2F%3Fview%3Dmine",
                  data={"username": "med-320413109201", "password": DEMO_PASSWORD})
    assert resp.headers["Location"] == "/cases/?view=mine"
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "logout"))
    assert event.details == {"reason": "idle", "minutes": 30} and event.actor_name == "med-320413109201"


def test_idle_timeout_is_configurable(app, demo, login, monkeypatch):
    app.config["MEDIATION_IDLE_TIMEOUT_MINUTES"] = 5
    c = login("med-320413109201")
    idle(c, 6)
    assert c.get("/").status_code == 302
    monkeypatch.setenv("MEDIATION_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("MEDIATION_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("MEDIATION_IDLE_TIMEOUT_MINUTES", "7")
    monkeypatch.setenv("MEDIATION_RETENTION_YEARS", "3")
    configured = create_app()
    assert configured.config["MEDIATION_IDLE_TIMEOUT_MINUTES"] == 7
    assert configured.config["MEDIATION_RETENTION_YEARS"] == 3


def test_autosave_answers_401_json_when_the_session_is_gone(app, demo, login):
    anonymous = app.test_client()
    resp = anonymous.post("/cases/drafts/autosave", data={"summary": "x"})
    assert resp.status_code == 401 and resp.is_json
    assert resp.json["error"] == zh(app, "Your session has ended: log in again to go on saving. What was saved "
                                         "before is kept in your drafts.")
    assert resp.json["login_url"] == "/login"
    # Timed out while typing: the last autosave is kept as a draft, then 401.
    c = login("med-320413109201")
    idle(c, 45)
    resp = c.post("/cases/drafts/autosave", data={"summary": "写到一半的概要", "parties-0-name": "汤桂珍"})
    assert resp.status_code == 401 and resp.is_json
    draft = db.session.scalar(select(CaseDraft))
    assert draft.user_id == user("med-320413109201").id and draft.data["summary"] == ["写到一半的概要"]


def test_an_intake_posted_after_the_timeout_is_kept_as_a_draft(app, demo, login):
    c = login("med-320413109201")
    idle(c, 31)
    resp = c.post("/cases/new", data={"summary": "来不及提交的案件", "parties-0-name": "汤桂珍"})
    draft = db.session.scalar(select(CaseDraft))
    assert draft is not None and draft.data["summary"] == ["来不及提交的案件"]
    assert resp.status_code == 302 and next_of(resp) == f"/cases/new?draft={draft.id}"
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert zh(app, "What you typed has been kept in your drafts.") in page


def test_a_timed_out_post_with_a_forged_token_keeps_nothing(csrf_app, demo):
    c = csrf_login(csrf_app, "med-320413109201")
    idle(c, 31)
    resp = c.post("/cases/drafts/autosave", data={"summary": "伪造", "csrf_token": "forged"})
    assert resp.status_code == 401
    assert db.session.scalar(select(func.count(CaseDraft.id))) == 0


# --- headers and the content security policy ------------------------------------------

def test_security_headers_on_every_kind_of_answer(app, demo, login):
    case = make_case()
    c = login("med-320413109201")
    for resp in (app.test_client().get("/login"), c.get("/cases/"), c.get("/no-such-page"),
                 c.get(f"/cases/{case.id}/intake.pdf"), c.get("/healthz")):
        h = resp.headers
        assert h["Content-Security-Policy"] == (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] in {"same-origin", "strict-origin-when-cross-origin", "no-referrer"}
        assert h["X-Frame-Options"] == "DENY"
    assert c.get("/cases/").headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" in c.get("/cases/", base_url="https://localhost").headers


INLINE = (
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline script"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style[\s>]", re.I), "style element"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
)


def assert_csp_clean(html: str, where: str) -> None:
    for pattern, what in INLINE:
        match = pattern.search(html)
        assert match is None, f"{what} on {where}: {match.group(0)[:120]}"


def test_pages_need_no_inline_script_or_style(app, demo, login):
    """Every page a GET route gives (with real ids), for each kind of user, keeps the CSP."""
    from mediation.diary.models import EntryKind

    from .factories import write_entry

    case = make_case()
    case.parties[0].id_number = GOOD_ID
    db.session.commit()
    advance(case, "accept", "assign")
    entry = write_entry(case, kind=EntryKind.SESSION)
    ids = {"case_id": case.id, "party_id": case.parties[0].id, "user_id": user("med-320413109201").id,
           "code": "320413109", "entry_id": entry.id, "lead_id": 1, "draft_id": 1, "name": "accept"}
    adapter = app.url_map.bind("localhost")
    seen = 0
    for who in ("admin", "coord-320413109", "med-320413109201", "grid-320413109201", "stats", None):
        c = login(who) if who else app.test_client()
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or not set(rule.arguments) <= set(ids) or rule.endpoint.endswith("static"):
                continue
            resp = c.get(adapter.build(rule.endpoint, {k: ids[k] for k in rule.arguments}))
            if resp.status_code == 200 and resp.mimetype == "text/html":
                assert_csp_clean(resp.get_data(as_text=True), f"{rule.rule} as {who}")
                seen += 1
    assert seen >= 40
    # The forms with errors and the reveal page too.
    admin = login("admin")
    assert_csp_clean(admin.post("/users/new", data={"username": "x"}).get_data(as_text=True), "/users/new")
    assert_csp_clean(admin.get(f"/cases/{case.id}/parties/{case.parties[0].id}/id-number").get_data(as_text=True),
                     "reveal")


# --- passwords and logins ---------------------------------------------------------------

def test_password_policy(app):
    from mediation.users.services import check_password_policy, common_passwords

    assert len(common_passwords()) >= 10_000
    with app.test_request_context():
        for bad, why in (("Short-1", "at least"), ("qwertyuiop", "easy"), ("1qaz2wsx3edc", "easy"),
                         ("woaini1314520", "easy"), ("Password123", "easy"), ("aaaaaaaaaaaa", "easy"),
                         ("wang.fang-2026", "username"), ("My-WANG.FANG-pw", "username")):
            with pytest.raises(DomainError) as exc:
                check_password_policy(bad, "wang.fang")
            assert exc.value.message == {
                "at least": zh(app, "The password needs at least %(n)d characters.", n=10),
                "easy": zh(app, "This password is too easy to guess; choose another."),
                "username": zh(app, "The password must not contain the username."),
            }[why], bad
        check_password_policy("Lotus-pond-77", "wang.fang")  # good enough


def test_unknown_user_and_wrong_password_look_and_cost_the_same(app, demo, monkeypatch):
    from mediation.users import services

    calls = []
    real = services.check_password_hash
    monkeypatch.setattr(services, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    answers = []
    for username in ("med-320413109201", "nobody-at-all"):
        resp = app.test_client().post("/login", data={"username": username, "password": "Wrong-password-1"})
        page = resp.get_data(as_text=True)
        answers.append((resp.status_code, re.search(r'class="invalid-feedback[^"]*">([^<]+)<', page).group(1)))
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert len(calls) == 2 and all(h.startswith("scrypt:") for h in calls)  # one real hash check each


def test_errors_show_no_stack_trace(db_url):
    app = make_app(db_url, PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise ValueError("secret internals")

    with app.app_context():
        resp = app.test_client().get("/boom")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 500 and "Traceback" not in page and "secret internals" not in page
        assert zh(app, "Something went wrong") in page
        db.session.remove()
        db.engine.dispose()


# --- ID numbers at rest ----------------------------------------------------------------

def test_id_numbers_are_encrypted_at_rest_and_matched_by_keyed_hash(app, demo):
    case = make_case()
    case.parties[0].id_number = GOOD_ID.lower()[:-1] + "7"
    db.session.commit()
    raw = db.session.execute(text("SELECT id_number_enc, id_hash FROM party WHERE id = :id"),
                             {"id": case.parties[0].id}).one()
    assert GOOD_ID not in raw.id_number_enc and raw.id_number_enc.startswith("gAAAA")  # a Fernet token
    key = cipher_for()._hash_key
    assert raw.id_hash == hmac.new(key, GOOD_ID.encode(), hashlib.sha256).hexdigest()
    db.session.expire_all()
    assert db.session.get(Party, case.parties[0].id).id_number == GOOD_ID
    # Queries compare hashes (normalised: spaces and a lower-case x do not matter).
    assert db.session.scalar(select(Party.id).where(Party.id_number == " " + GOOD_ID)) == case.parties[0].id
    assert db.session.scalar(select(func.count(Party.id)).where(Party.id_number.in_([GOOD_ID, "x"]))) == 1
    assert db.session.scalar(select(Party.id_number).where(Party.id == case.parties[0].id)) == GOOD_ID
    with pytest.raises(NotImplementedError):
        select(Party.id).where(Party.id_number.like("3204%"))
    # Two encryptions of one number differ (salted); the hash does not.
    other = make_case(applicant="甲", respondent="乙")
    other.parties[1].id_number = GOOD_ID
    db.session.commit()
    tokens = db.session.execute(text("SELECT id_number_enc, id_hash FROM party WHERE id_hash <> ''")).all()
    assert len({t.id_number_enc for t in tokens}) == 2 and len({t.id_hash for t in tokens}) == 1


def test_ids_are_masked_and_revealed_once_with_a_logged_reason(app, demo, login):
    case = make_case()
    party = case.parties[0]
    party.id_number = GOOD_ID
    db.session.commit()
    med = login("med-320413109201")
    detail = med.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "3204**********1227" in detail and GOOD_ID not in detail
    url = f"/cases/{case.id}/parties/{party.id}/id-number"
    assert f'href="{url}"' in detail
    form = med.get(url)
    assert GOOD_ID not in form.get_data(as_text=True) and form.headers["Cache-Control"] == "no-store"
    refused = med.post(url, data={"reason": "  "}).get_data(as_text=True)
    assert GOOD_ID not in refused and zh(app, "Please give a reason.") in refused
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "reveal")) == 0
    shown = med.post(url, data={"reason": "核对身份证复印件"})
    assert GOOD_ID in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store" and shown.headers["Pragma"] == "no-cache"
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal"))
    assert event.details["reason"] == "核对身份证复印件" and event.target_type == "party"
    assert event.target_id == str(party.id) and event.actor_name == "med-320413109201"
    assert GOOD_ID not in str(event.details)  # the log never holds the number itself
    # Only who may see the case: another village's mediator gets 404, a grid worker 403.
    assert login("med-320413109202").get(url).status_code == 404
    assert login("med-320413109202").post(url, data={"reason": "好奇"}).status_code == 404
    assert login("grid-320413109201").get(url).status_code == 403
    # No number, or a party of another case: 404.
    assert med.get(f"/cases/{case.id}/parties/{case.parties[1].id}/id-number").status_code == 404
    other = make_case(applicant="甲", respondent="乙")
    assert med.get(f"/cases/{other.id}/parties/{party.id}/id-number").status_code == 404


def test_the_migration_encrypts_existing_numbers_and_the_downgrade_decrypts_them(db_url):
    from flask_migrate import downgrade, upgrade

    from mediation import ROOT

    migrations = str(ROOT / "migrations")
    app = make_app(db_url)
    with app.app_context():
        upgrade(directory=migrations, revision="eafcf5e59e2c")  # the revision before this one
        with db.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            else:
                conn.exec_driver_sql("SET session_replication_role = replica")  # skip the foreign keys
            conn.execute(text(
                "INSERT INTO party (id, case_id, position, role, name, ethnicity, occupation, id_number, phone, "
                "address, relationship, is_minor) VALUES (1, 1, 0, 'applicant', '汤桂珍', '', '', :n, '', '', '', "
                ":f), (2, 1, 1, 'respondent', '周国民', '', '', '', '', '', '', :f)"), {"n": GOOD_ID, "f": False})
        upgrade(directory=migrations, revision="ed08d2c82805")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, id_number_enc, id_hash FROM party ORDER BY id")).all()
            assert rows[0].id_number_enc.startswith("gAAAA") and GOOD_ID not in rows[0].id_number_enc
            assert cipher_for().decrypt(rows[0].id_number_enc) == GOOD_ID
            assert rows[0].id_hash == cipher_for().hash(GOOD_ID)
            assert rows[1].id_number_enc == "" and rows[1].id_hash == ""
        downgrade(directory=migrations, revision="eafcf5e59e2c")
        with db.engine.connect() as conn:
            assert [r[0] for r in conn.execute(text("SELECT id_number FROM party ORDER BY id"))] == [GOOD_ID, ""]
        downgrade(directory=migrations, revision="base")
        db.engine.dispose()


def test_production_needs_the_id_keys_and_refuses_bad_ones(db_url):
    with pytest.raises(RuntimeError, match="ID_ENCRYPTION_KEYS"):
        make_app(db_url, ENV="production", SECRET_KEY="s" * 40)
    with pytest.raises(RuntimeError, match="Fernet"):
        make_app(db_url, ID_ENCRYPTION_KEYS="not-a-key", ID_HASH_KEY="h" * 64)
    with pytest.raises(RuntimeError, match="ID_HASH_KEY"):
        make_app(db_url, ID_ENCRYPTION_KEYS="kY6wZ0g8a8fS6m3oQbq1dGk9V3iA0mJc2xT5uN7pR4E=", ID_HASH_KEY="short")


def test_key_rotation_reencrypts_every_number(app, demo, runner):
    from cryptography.fernet import Fernet

    from mediation.crypto import IdCipher, configured_keys

    case = make_case()
    case.parties[0].id_number = GOOD_ID
    db.session.commit()
    old = db.session.execute(text("SELECT id_number_enc FROM party WHERE id_hash <> ''")).scalar()
    old_keys, hash_key = configured_keys(app)
    new_key = Fernet.generate_key().decode()
    app.extensions["mediation_id_cipher"] = IdCipher([new_key, *old_keys], hash_key)  # the new key first
    result = runner.invoke(args=["keys", "reencrypt-ids"])
    assert result.exit_code == 0, result.output
    token = db.session.execute(text("SELECT id_number_enc FROM party WHERE id_hash <> ''")).scalar()
    assert token != old and Fernet(new_key.encode()).decrypt(token.encode()).decode() == GOOD_ID
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "keys.reencrypt")) == 1


def test_the_edit_form_shows_numbers_masked_and_keeps_them(app, demo, login):
    from .test_cases import intake

    med = login("med-320413109201")
    med.post("/cases/new", data=intake())
    case = db.session.scalar(select(Party).where(Party.id_number == GOOD_ID)).case
    url = f"/cases/{case.id}/edit"
    page = med.get(url).get_data(as_text=True)
    assert GOOD_ID not in page and 'value="3204**********1227"' in page
    # Sent back as shown: the stored number is kept (and nothing changed on the timeline).
    events = len(case.events)
    resp = med.post(url, data=intake(version=str(case.version), **{"parties-0-id_number": "3204**********1227"}))
    assert resp.status_code == 302
    db.session.expire_all()
    assert case.parties[0].id_number == GOOD_ID and len(case.events) == events
    # A refused save shows the form again, still masked.
    page = med.post(url, data=intake(version=str(case.version), summary="",
                                     **{"parties-0-id_number": "3204**********1227"})).get_data(as_text=True)
    assert GOOD_ID not in page and "3204**********1227" in page
    # A new number typed in full replaces it; a mask that matches nothing is refused.
    from mediation.cases.idnumber import check_digit

    new_id = "3204821942031800" + "1" + check_digit("3204821942031800" + "1")
    med.post(url, data=intake(version=str(case.version), **{"parties-0-id_number": new_id}))
    db.session.expire_all()
    assert case.parties[0].id_number == new_id
    page = med.post(url, data=intake(version=str(case.version), **{"parties-0-id_number": "1111**********2222"}))
    assert page.status_code == 200
    db.session.expire_all()
    assert case.parties[0].id_number == new_id


@pytest.mark.browser
def test_in_a_browser_pages_keep_the_csp_and_autosave_tells_of_an_ended_session(live_server, browser):
    from playwright.sync_api import expect

    from .browser import log_in

    problems = []
    for username, paths in (("admin", ("/", "/audit/", "/cases/categories/", "/users/", "/units/")),
                            ("med-320413109201", ("/", "/cases/", "/cases/drafts/", "/leads/", "/account/password"))):
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        log_in(page, live_server, username)
        for path in paths:
            page.goto(live_server + path)
        if username == "admin":
            context.close()
            continue
        page.goto(f"{live_server}/cases/new")
        page.click("#add-party")  # app.js runs under the CSP
        page.fill("input[name='parties-0-name']", "赵敏")
        page.fill("textarea[name=summary]", "会话结束前写的")
        expect(page.locator("#draft-status")).to_contain_text("已自动保存", timeout=15000)
        context.clear_cookies()  # the session is gone (expired, or logged out elsewhere)
        page.fill("textarea[name=summary]", "会话结束后写的")
        status = page.locator("#draft-status")
        expect(status).to_have_class(re.compile("text-danger"), timeout=15000)
        assert "401" not in status.inner_text() and status.inner_text().strip()
        context.close()
    assert problems == []
