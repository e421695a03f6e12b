"""Shared pieces for browser tests: a live server and Debian's Chromium through Playwright."""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from mediation import create_app
from mediation.extensions import db

from .support import skip_or_fail

CHROMIUM = os.environ.get("MEDIATION_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def demo_app(path: Path, sqlite_states, **config):
    """A (non-TESTING) app on a new SQLite file at ``path`` holding the schema and the demo
    network (a copy of the session's prepared file: what create_all and load_demo make)."""
    app = create_app({
        "SECRET_KEY": "browser-test", "DATABASE_URL": f"sqlite:///{path}",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", **config,
    })
    with app.app_context():
        db.engine.dispose()
    sqlite_states.put("demo", path)
    return app


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, sqlite_states):
    """The app with the demo network on a real SQLite file, served on a free port."""
    path: Path = tmp_path_factory.mktemp("live") / "live.sqlite"
    app = demo_app(path, sqlite_states)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session; each test opens its own context (``phone``, ``desktop``)."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    """A 360×740 phone-sized page."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def log_in(page, base: str, username: str, password: str = "jintan-demo") -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
