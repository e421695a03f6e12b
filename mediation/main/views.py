"""Home page and health check."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from .. import access
from ..cases.services import drafts_of, home_counts
from ..extensions import db
from ..leads.services import new_count as new_lead_count
from ..transfers.services import incoming_count
from ..users.models import Role

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    """What needs this person now, each a link to the list that holds it."""
    if current_user.roles == {Role.GRID_WORKER}:
        return redirect(url_for("leads.new"))
    actions = access.actions_of(current_user)
    counts, new_leads, drafts = {}, 0, 0
    if "case.view" in actions:
        counts = {**home_counts(current_user), "incoming": incoming_count(current_user)}
        new_leads = new_lead_count(current_user)  # the count of what /leads/ lists as new
        drafts = len(drafts_of(current_user))
    return render_template("main/home.html", actions=actions, counts=counts, new_leads=new_leads, drafts=drafts)


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
    if current_user and getattr(current_user, "is_authenticated", False):
        # Pages carry personal data: never keep them in shared or back-button caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
