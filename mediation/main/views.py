"""Home page and health check."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import AnonymousUserMixin, current_user, login_required
from sqlalchemy import text

from .. import access
from ..cases.services import home_count_queries
from ..extensions import db
from ..leads.models import Lead, LeadStatus
from ..leads.services import leads_query
from ..paging import bounded_counts
from ..transfers.services import incoming_query
from ..users.models import Role

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    """What needs this person now, each a link to the list that holds it."""
    if current_user.roles == {Role.GRID_WORKER}:
        return redirect(url_for("leads.new"))
    actions = access.actions_of(current_user)
    counts = {}
    if "case.view" in actions:
        # Every tile in one query, each count stopping at paging.COUNT_BOUND (shown "1,000+").
        queries = {**home_count_queries(current_user), "new_leads": leads_query(current_user).where(
            Lead.status == LeadStatus.NEW).with_only_columns(Lead.id)}  # what /leads/ lists as new
        if (incoming := incoming_query(current_user)) is not None:
            queries["incoming"] = incoming
        counts = dict(zip(queries, bounded_counts(list(queries.values())), strict=True))
    return render_template("main/home.html", actions=actions, counts=counts)


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


# No inline script or style anywhere: behaviour lives in static/app.js, looks in static/app.css.
# Thumbnails and photo previews may be data: or blob: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


@bp.after_app_request
def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin is stricter than strict-origin-when-cross-origin (nothing leaves the site)
    # and, unlike no-referrer, keeps the Referer that CSRF checks need over HTTPS.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), payment=(), usb=()")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # Asked of the login, not of the account row (which a commit has expired: no reload for this).
    if not isinstance(current_user._get_current_object(), AnonymousUserMixin):
        # Pages carry personal data: never keep them in shared or back-button caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
