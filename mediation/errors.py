"""Domain exceptions and the error pages (in the user's language)."""
from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError


class DomainError(Exception):
    """A rule of the domain refused the action; ``message`` is shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _wants_json() -> bool:
    return request.path == "/healthz" or request.accept_mimetypes.best == "application/json"


def init_app(app) -> None:
    def page(code: int, title: str, text: str):
        if _wants_json():
            return {"error": title}, code
        return render_template("errors/error.html", code=code, title=title, text=text), code

    @app.errorhandler(403)
    def forbidden(_e):
        return page(403, _("No permission"), _("Your account may not open this page."))

    @app.errorhandler(404)
    def not_found(_e):
        return page(404, _("Not found"), _("This page does not exist, or it is outside your area."))

    @app.errorhandler(405)
    def not_allowed(_e):
        return page(405, _("Not allowed"), _("This action cannot be done this way."))

    @app.errorhandler(413)
    def too_large(_e):
        return page(413, _("The file is too large"), _("Files up to 10 MB can be attached. Nothing was saved."))

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return page(
            400,
            _("The form has expired"),
            _("Please go back, reload the page and submit again. Nothing was saved."),
        )

    @app.errorhandler(500)
    def server_error(_e):
        from .extensions import db

        db.session.rollback()
        return page(
            500,
            _("Something went wrong"),
            _("The error has been logged. Nothing was saved; please try again."),
        )
