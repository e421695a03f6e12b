"""Fixtures: an app on a real SQLite file and, when configured, on a real PostgreSQL
database that this run creates and drops; clients logged in as demo accounts."""
import contextvars
import os
import uuid

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from mediation import create_app
from mediation.extensions import db

from .support import DEMO_PASSWORD, skip_or_fail  # noqa: F401  (DEMO_PASSWORD is used by tests)


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    base = os.environ.get("MEDIATION_TEST_DATABASE_URL")
    if not base:
        skip_or_fail("MEDIATION_TEST_DATABASE_URL is not set")
    name = f"mediation_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    except OperationalError as exc:
        admin.dispose()
        skip_or_fail(f"PostgreSQL unreachable: {exc.orig}")
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    return request.getfixturevalue("pg_url")


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context (own ``g``, own DB session), as in
    production, instead of borrowing the test's. Afterwards the test's session ends
    its transaction so that it sees what the request committed."""

    def open(self, *args, **kwargs):
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            if has_app_context():  # not inside a redirect that open() follows itself
                db.session.rollback()


def make_app(db_url: str, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": db_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # real scrypt, test-sized cost
    }
    config.update(extra)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(db_url):
    app = make_app(db_url)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        if db.engine.dialect.name != "sqlite":  # a SQLite file is the test's own and goes with tmp_path
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(app):
    """The Jintan network and its demo accounts."""
    from mediation.demo import load_demo

    load_demo()
    db.session.commit()


@pytest.fixture
def login(app):
    """login(username) -> a test client logged in as that account."""

    def _login(username: str, password: str = DEMO_PASSWORD):
        c = app.test_client()
        resp = c.post("/login", data={"username": username, "password": password})
        assert resp.status_code == 302, f"login as {username} failed"
        return c

    return _login


# Browser fixtures (live_server, browser, phone, desktop) live in tests/browser.py.
from .browser import browser, desktop, live_server, phone  # noqa: E402, F401
