"""mediation: case management for marriage and family dispute mediation."""
import os
import secrets
from pathlib import Path

from flask import Flask

from .config import Config

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
    app.config.from_object(Config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("MEDIATION")
    else:
        app.config.update(test_config)
    _configure_secret_key(app)
    _configure_database(app)
    _configure_privacy(app)
    if app.config.get("PROXY_COUNT"):
        # Behind N trusted proxies: take the client address (login throttling) and
        # the scheme (secure cookies) from their X-Forwarded-* headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from . import errors, i18n, labels
    from .extensions import babel, bootstrap, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    bootstrap.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    labels.init_app(app)

    from . import access, cli, search
    from .agreements.views import bp as agreements_bp
    from .attachments.views import bp as attachments_bp
    from .audit.views import bp as audit_bp  # also the audit models and the commit hook that chains events
    from .cases import categories  # noqa: F401  (routes on the cases blueprint)
    from .cases.reveal import bp as reveal_bp
    from .cases.views import bp as cases_bp
    from .diary.views import bp as diary_bp
    from .inbox import views as inbox_views
    from .leads.views import bp as leads_bp
    from .main import nav
    from .main.views import bp as main_bp
    from .org.views import bp as org_bp
    from .printing.views import book_bp
    from .printing.views import bp as printing_bp
    from .retention.views import bp as retention_bp
    from .screening import views as screening_views
    from .users.auth import bp as auth_bp
    from .users.views import bp as users_bp

    access.init_app(app)
    nav.init_app(app)
    inbox_views.init_app(app)
    app.register_blueprint(inbox_views.bp)
    screening_views.init_app(app)
    app.register_blueprint(screening_views.bp)
    from .cases import restricted

    restricted.init_app(app)
    app.register_blueprint(restricted.bp)
    for bp in (main_bp, auth_bp, org_bp, users_bp, cases_bp, leads_bp, diary_bp, printing_bp, agreements_bp,
               book_bp, attachments_bp):
        app.register_blueprint(bp)
    for bp in (audit_bp, reveal_bp, retention_bp):  # audit log, full-ID reveal, legal hold
        app.register_blueprint(bp)
    from .related.views import bp as related_bp
    from .teaching.views import bp as teaching_bp
    for bp in (related_bp, teaching_bp):  # related cases (/related), e家学 teaching cases (/teaching)
        app.register_blueprint(bp)
    from .stats.views import bp as stats_bp
    app.register_blueprint(stats_bp)  # /stats: dashboard, monthly report, zero reports
    cli.init_app(app)
    search.init_app(app)  # /search, `flask search reindex`
    from . import keys

    keys.init_app(app)  # the ID keys against the database: refuses to start when they do not fit
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
    from .crypto import read_or_create

    key_file = Path(app.instance_path) / "secret_key"
    key = read_or_create(key_file, lambda: secrets.token_hex(32))
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
    # The ID-number keys are read (or made) by keys.init_app, once the database is known.


def _configure_database(app: Flask) -> None:
    """DATABASE_URL (or an explicit SQLALCHEMY_DATABASE_URI) wins; else SQLite in instance/."""
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{Path(app.instance_path) / 'mediation.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
