"""What ``create_app`` plugs into an app: the extensions, every feature's blueprints and
commands, and the registrations through which features fill the slots and signals of
the modules below them (``hooks``). The one module that imports every feature; nothing
imports it but the app factory."""
from pathlib import Path

from flask import Flask

from . import access, cli, errors, forms, i18n, keys, labels, submissions
from .agreements import services as agreements_services
from .agreements.views import bp as agreements_bp
from .api import docs as api
from .attachments.views import bp as attachments_bp
from .audit.views import bp as audit_bp  # also the audit models and the commit hook that chains events
from .cases import categories, restricted  # noqa: F401  (categories: routes on the cases blueprint)
from .cases.reveal import bp as reveal_bp
from .cases.views import bp as cases_bp
from .diary import services as diary_services
from .diary.views import bp as diary_bp
from .extensions import babel, bootstrap, csrf, db, login_manager, migrate
from .inbox import services as inbox_services
from .inbox import views as inbox_views
from .leads.views import bp as leads_bp
from .main import nav
from .main.views import bp as main_bp
from .org.views import bp as org_bp
from .printing.views import book_bp
from .printing.views import bp as printing_bp
from .related.views import bp as related_bp
from .retention.views import bp as retention_bp
from .screening import services as screening_services
from .screening import views as screening_views
from .search import views as search_views
from .stats import aggregates as stats_aggregates
from .stats.views import bp as stats_bp
from .teaching.views import bp as teaching_bp
from .transfers import services as transfers_services
from .users.auth import bp as auth_bp
from .users.views import bp as users_bp


def init_app(app: Flask, *, migrations: Path) -> None:
    """Bind the extensions, fill the registration points, register blueprints and commands."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(migrations))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    bootstrap.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    forms.init_app(app)  # the error summary's items (templates/_macros/forms.html)
    submissions.init_app(app)  # one tap, one record: the forms' submission keys
    labels.init_app(app)

    # Features fill what the modules below them ask for: the workflow's guards and effects,
    # access's protected parties, the case services' risk history, the retention scrubbers,
    # and the listeners of the workflow's steps, diary entries and delegated visits.
    for feature in (diary_services, agreements_services, transfers_services, screening_services, inbox_services,
                    stats_aggregates):
        feature.init_app(app)

    access.init_app(app)
    nav.init_app(app)
    inbox_views.init_app(app)
    app.register_blueprint(inbox_views.bp)
    screening_views.init_app(app)
    app.register_blueprint(screening_views.bp)
    restricted.init_app(app)
    app.register_blueprint(restricted.bp)
    for bp in (main_bp, auth_bp, org_bp, users_bp, cases_bp, leads_bp, diary_bp, printing_bp, agreements_bp,
               book_bp, attachments_bp):
        app.register_blueprint(bp)
    for bp in (audit_bp, reveal_bp, retention_bp):  # audit log, full-ID reveal, legal hold
        app.register_blueprint(bp)
    for bp in (related_bp, teaching_bp):  # related cases (/related), e家学 teaching cases (/teaching)
        app.register_blueprint(bp)
    app.register_blueprint(stats_bp)  # /stats: dashboard, monthly report, zero reports
    cli.init_app(app)
    search_views.init_app(app)  # /search, `flask search reindex`
    api.init_app(app)  # /api/v1: the JSON API, its OpenAPI document and reference, tokens, the outbox
    keys.init_app(app)  # the ID keys against the database: refuses to start when they do not fit
