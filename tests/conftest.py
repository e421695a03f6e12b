"""Fixtures: an app on a real SQLite file and, when configured, on a real PostgreSQL
database that this run creates and drops; clients logged in as demo accounts.

Speed (the whole suite stays a tool, not a wait): the schema and the demo network are made
once per session by the real code and put back before each test (tests/dbstate.py), so
``app`` and ``demo`` cost milliseconds instead of seconds; ``app`` still builds a new Flask
app per test."""
import contextvars
import os
import uuid
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from mediation import create_app
from mediation.extensions import db

from . import dbstate
from .support import DEMO_PASSWORD, cache_url_builders, share_template_bytecode, skip_or_fail  # noqa: F401  (DEMO_PASSWORD is used by tests)

cache_url_builders()
share_template_bytecode()


def _create_database(base: str, label: str = "test") -> str:
    name = f"mediation_{label}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    except OperationalError as exc:
        skip_or_fail(f"PostgreSQL unreachable: {exc.orig}")
    finally:
        admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _drop_database(base: str, url: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _base_pg_url() -> str:
    base = os.environ.get("MEDIATION_TEST_DATABASE_URL")
    if not base:
        skip_or_fail("MEDIATION_TEST_DATABASE_URL is not set")
    return base


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this test session, dropped at the end. A test that
    takes ``db_url`` (postgres) without ``app`` gets it with nothing in it."""
    base = _base_pg_url()
    url = _create_database(base)
    yield url
    _drop_database(base, url)


@pytest.fixture(scope="session")
def pg_states():
    """The session's PostgreSQL database for ``app`` (beside ``pg_url``), with the schema
    and the demo network prepared once (tests/dbstate.py)."""
    base = _base_pg_url()
    url = _create_database(base, "app")
    try:
        states = dbstate.PostgresStates(url, make_app)
    except BaseException:
        _drop_database(base, url)
        raise
    yield states
    states.close()
    _drop_database(base, url)


@pytest.fixture(scope="session")
def sqlite_states(tmp_path_factory):
    """Prepared SQLite files: the schema, and the schema with the demo network."""
    return dbstate.SqliteStates(tmp_path_factory.mktemp("prepared"), make_app)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """The test's database. SQLite: a file of its own (not there yet). PostgreSQL: with
    ``app`` in the test, the database the app uses (see ``app``); without it, the session's
    ``pg_url``, empty."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    if "app" in request.fixturenames:
        return request.getfixturevalue("pg_states").url
    url = request.getfixturevalue("pg_url")
    dbstate.ensure_empty_postgres(url)
    return url


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


DEMO_READY = "tests.demo_ready"


def prepared_app(request, db_url: str, state: str = "schema", **extra):
    """``make_app(db_url, **extra)`` on a database holding what ``db.create_all()`` (state
    "schema") or that and ``load_demo()`` (state "demo") make on a new database, put there
    from the session's prepared copy. The app starts (and compares the ID keys) on an empty
    database, as the app of a new database does. Returns (app, prepared): not prepared
    when ``db_url`` is not one this can put a state in (then the caller creates the schema)."""
    url = make_url(db_url)
    prepared = False
    if url.get_backend_name() == "postgresql":
        states = request.getfixturevalue("pg_states")
        if url.database == make_url(states.url).database:
            states.reset(state)  # before the start: the keys are compared with a clean database
            app = make_app(db_url, **extra)
            states.forget_key_check()
            prepared = True
        else:
            app = make_app(db_url, **extra)
    else:
        path = Path(url.database) if url.database else None
        fresh = path is not None and (not path.exists() or path.stat().st_size == 0)
        app = make_app(db_url, **extra)  # the start finds an empty database, as on a new one
        if fresh:
            with app.app_context():
                db.engine.dispose()
            request.getfixturevalue("sqlite_states").put(state, path)
            prepared = True
    app.extensions[DEMO_READY] = prepared and state == "demo"
    return app, prepared


@pytest.fixture
def app(request, db_url):
    """A new app (TESTING) on the test's database with the schema as ``db.create_all()``
    makes it, and the demo network too when the test takes ``demo``. Yields inside an app
    context. On PostgreSQL the database is the session's app database (``pg_states``),
    whose state is put back before each test, not dropped after it."""
    state = "demo" if "demo" in request.fixturenames else "schema"
    app, prepared = prepared_app(request, db_url, state)
    with app.app_context():
        if not prepared:
            db.create_all()
        yield app
        db.session.remove()
        if not prepared and db.engine.dialect.name != "sqlite":
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
    if app.extensions.get(DEMO_READY):
        return  # the app's database was prepared with it (see ``app``)
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
