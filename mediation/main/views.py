"""Home page and health check."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from .. import access
from ..extensions import db
from ..users.models import Role

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    if current_user.roles == {Role.GRID_WORKER}:
        return render_template("main/home_grid.html")
    return render_template("main/home.html", actions=access.actions_of(current_user))


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means: not healthy
        db.session.rollback()
        return {"status": "error", "db": "unreachable"}, 503
    return {"status": "ok", "db": "ok"}


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"))


@bp.after_app_request
def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_user and getattr(current_user, "is_authenticated", False):
        # Pages carry personal data: never keep them in shared or back-button caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
