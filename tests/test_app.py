"""The application shell: configuration, database settings, health, errors, language, dates."""
import re
from datetime import date, datetime

import pytest
from flask import Flask
from sqlalchemy import text

from mediation import _configure_secret_key, create_app
from mediation.extensions import db

from .conftest import make_app


def test_secret_key_is_generated_once_into_instance(tmp_path):
    first = Flask("a", instance_path=str(tmp_path))
    _configure_secret_key(first)
    second = Flask("b", instance_path=str(tmp_path))
    _configure_secret_key(second)
    key = (tmp_path / "secret_key").read_text().strip()
    assert len(key) == 64 and first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("MEDIATION_ENV", "production")
    monkeypatch.delenv("MEDIATION_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("MEDIATION_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("MEDIATION_DATABASE_URL", "sqlite://")
    with pytest.raises(RuntimeError, match="ID_ENCRYPTION_KEYS"):  # and the ID-number keys (issue 6)
        create_app()
    monkeypatch.setenv("MEDIATION_ID_ENCRYPTION_KEYS", "kY6wZ0g8a8fS6m3oQbq1dGk9V3iA0mJc2xT5uN7pR4E=")
    monkeypatch.setenv("MEDIATION_ID_HASH_KEY", "h" * 64)
    assert create_app().config["SECRET_KEY"] == "x" * 40


def test_environment_configures_the_database(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIATION_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite")


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'p.sqlite'}")
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok", "db": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}")
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503 and resp.get_json()["db"] != "ok"


def test_error_pages_are_chinese(client, login, demo):
    page = login("med-320413109201").get("/units/nope")
    assert page.status_code == 404 and "未找到" in page.get_data(as_text=True)
    page = login("med-320413109201").get("/users/new")
    assert page.status_code == 403 and "无权访问" in page.get_data(as_text=True)


def test_server_error_page_is_chinese_and_hides_the_trace(db_url):
    app = make_app(db_url, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise ValueError("secret detail")

    page = app.test_client().get("/boom")
    assert page.status_code == 500
    body = page.get_data(as_text=True)
    assert "系统出错了" in body and "secret detail" not in body and "Traceback" not in body


def test_login_page_is_chinese_by_default_and_english_on_request(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and 'name="username"' in page and 'name="password"' in page
    assert 'lang="zh-CN"' in page
    client.post("/account/language", data={"lang": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and 'lang="en"' in page


def test_language_is_kept_per_user(login, demo, app):
    c = login("med-320413109201")
    c.post("/account/language", data={"lang": "en", "next": "/"})
    assert "Hello" in login("med-320413109201").get("/").get_data(as_text=True)  # a new session too
    assert "您好" in login("med-320413109202").get("/").get_data(as_text=True)


def test_dates_in_chinese_and_times_in_shanghai(app):
    from mediation.i18n import fmt_date, fmt_datetime

    with app.test_request_context("/"):
        assert fmt_date(date(2026, 11, 29)) == "2026年11月29日"
        # Stored UTC 16:30 is half past midnight the next day in Shanghai.
        assert fmt_datetime(datetime(2026, 11, 28, 16, 30)) == "2026年11月29日 00:30"


def test_static_assets_are_served_locally(client):
    page = client.get("/login").get_data(as_text=True)
    # Every script, style and link is served from here (read the links: a CSRF token may spell "cdn").
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links and not [u for u in links if u.startswith(("http:", "https:", "//"))]
    assert client.get("/bootstrap/static/css/bootstrap.min.css").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_open_redirects_are_refused(client, demo):
    resp = client.post("/login?next=//evil.example/x", data={"username": "admin", "password": "jintan-demo"})
    assert resp.headers["Location"] == "/"


def test_csrf_is_enforced(db_url, demo):
    app = make_app(db_url, WTF_CSRF_ENABLED=True)
    c = app.test_client()
    resp = c.post("/login", data={"username": "admin", "password": "jintan-demo"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "表单已过期" in page and "我的草稿" in page


def test_production_refuses_a_short_secret_key(monkeypatch):
    monkeypatch.setenv("MEDIATION_ENV", "production")
    monkeypatch.setenv("MEDIATION_SECRET_KEY", "x")
    monkeypatch.setenv("MEDIATION_DATABASE_URL", "sqlite://")
    with pytest.raises(RuntimeError, match="too short"):
        create_app()


def test_a_web_worker_loads_neither_alembic_nor_pypdf(tmp_path):
    """Worker memory (issue 12.7): Alembic (with Mako) and pypdf are imported where they are
    used (``flask db``, a restore, an uploaded PDF), not by every worker that serves pages."""
    import subprocess
    import sys

    code = ("import sys; from mediation import create_app; create_app(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako', 'pypdf', 'flask_migrate'}))")
    env = {**__import__("os").environ, "MEDIATION_DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite'}",
           "MEDIATION_SECRET_KEY": "x" * 40, "MEDIATION_INSTANCE_PATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_flask_db_runs_flask_migrate_commands(db_url, capfd):
    """``flask db`` is Flask-Migrate's group, loaded when it runs, with its options."""
    from flask_migrate import upgrade

    from mediation import ROOT

    app = make_app(db_url)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["db", "--help"])
    assert listed.exit_code == 0 and "upgrade" in listed.output and "--directory" in listed.output
    with app.app_context():
        upgrade()
    capfd.readouterr()
    current = runner.invoke(args=["db", "-d", str(ROOT / "migrations"), "current"])
    assert current.exit_code == 0, current.output
    assert "(head)" in current.output + capfd.readouterr().out  # Alembic prints to the real stdout


def test_postgresql_connections_run_without_jit(db_url):
    """PostgreSQL compiled a 2 ms search for 320 ms (its JIT, set off by a high cost estimate)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's setting")
    app = make_app(db_url)
    with app.app_context():
        assert db.session.execute(text("SHOW jit")).scalar() == "off"
