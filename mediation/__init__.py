"""mediation: case management for marriage and family dispute mediation."""
import os
import secrets
from pathlib import Path

from flask import Flask

from . import crypto
from .config import Config
from .forms import AppRequest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent


def instance_path() -> Path:
    """The instance folder (config.py, keys, uploads, the default SQLite file):
    ``MEDIATION_INSTANCE_PATH`` when set, else ``instance/`` beside the package."""
    configured = os.environ.get("MEDIATION_INSTANCE_PATH", "").strip()
    return Path(configured).expanduser().resolve() if configured else ROOT / "instance"


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application. ``test_config`` replaces instance and environment settings."""
    folder = instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(folder),
        instance_relative_config=True,
    )
    app.request_class = AppRequest
    app.config.from_object(Config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("MEDIATION")
    else:
        app.config.update(test_config)
    _configure_zone(app)
    _configure_secret_key(app)
    _configure_database(app)
    _configure_privacy(app)
    if app.config.get("PROXY_COUNT"):
        # Behind N trusted proxies: take the client address (login throttling) and
        # the scheme (secure cookies) from their X-Forwarded-* headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    # Imported here, not at the top: the wiring pulls in every feature, and ``import mediation``
    # (for ROOT, or to reach one module) should not. The one project import inside a function.
    from . import wiring

    wiring.init_app(app, migrations=ROOT / "migrations")
    return app


def _configure_secret_key(app: Flask) -> None:
    """Use the configured key; in development generate one into ``instance/`` once."""
    key = app.config.get("SECRET_KEY")
    if key:
        if app.config.get("ENV") == "production" and len(key) < 32:
            raise RuntimeError("SECRET_KEY is too short for production: use at least 32 random characters")
        return
    if app.config.get("ENV") == "production":
        raise RuntimeError(
            "MEDIATION_ENV=production needs a SECRET_KEY: set MEDIATION_SECRET_KEY "
            "or SECRET_KEY in instance/config.py"
        )
    key_file = Path(app.instance_path) / "secret_key"
    key = crypto.read_or_create(key_file, lambda: secrets.token_hex(32))
    if not key:
        raise RuntimeError(f"{key_file} is empty; delete it and start again")
    app.config["SECRET_KEY"] = key


def _configure_privacy(app: Flask) -> None:
    """Secure cookies behind HTTPS, and the two settings whose
    environment names are MEDIATION_IDLE_TIMEOUT_MINUTES and MEDIATION_RETENTION_YEARS."""
    for short in ("IDLE_TIMEOUT_MINUTES", "RETENTION_YEARS"):
        if short in app.config:  # from_prefixed_env took MEDIATION_ off the variable's name
            app.config[f"MEDIATION_{short}"] = app.config[short]
    https = app.config.get("ENV") == "production" or app.config.get("PREFERRED_URL_SCHEME") == "https"
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(key) is None:
            app.config[key] = https


def _configure_database(app: Flask) -> None:
    """DATABASE_URL (or an explicit SQLALCHEMY_DATABASE_URI) wins; else SQLite in instance/."""
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        path = Path(app.instance_path) / "mediation.sqlite"
        try:  # the people's records: readable by the app's user alone, as the keys and uploads
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # empty: a new database
        except FileExistsError:
            pass
        url = f"sqlite:///{path}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("postgresql"):
        # PostgreSQL's JIT compiles a query before running it when its estimated cost is high,
        # and a scoped query's estimate can be in the millions: a 2 ms search spent 320 ms
        # compiling at 1,000,000 cases. Pages run short queries: no JIT.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args["options"] = f"{connect_args.get('options', '')} -c jit=off".strip()
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}


def _configure_zone(app: Flask) -> None:
    """Refuse to start with a zone name that is not one (every "today" depends on it)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = app.config.get("BABEL_DEFAULT_TIMEZONE")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise RuntimeError(
            f"BABEL_DEFAULT_TIMEZONE (MEDIATION_BABEL_DEFAULT_TIMEZONE) is {name!r}, which is not a time zone name: "
            "use an IANA name such as Asia/Shanghai (letter case matters)") from None
