"""Logging in and out, the idle timeout, one's own password and language."""
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_url, login_user, logout_user
from sqlalchemy.orm import joinedload

from .. import audit
from ..cases.services import save_draft
from ..errors import DomainError, is_api_request
from ..extensions import db, login_manager
from ..parsing import ascii_int, db_id
from ..timeutil import epoch_seconds
from . import services
from .forms import LoginForm, PasswordChangeForm
from .models import User
from .services import LoginRefused, authenticate

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page says what to do; no extra flash
login_manager.session_protection = "basic"

# Called by scripts in the page (fetch, sendBeacon), not by people: when the session is gone
# they get 401 JSON, which app.js can explain, instead of the login page's HTML.
JSON_ENDPOINTS = {"cases.autosave"}
# Intake posts whose typed data is kept as a draft when they arrive after the idle timeout.
DRAFT_ENDPOINTS = {"cases.new", "cases.autosave"}
# Requests that neither need a session nor count as activity.
_PASSIVE_ENDPOINTS = {"static", "bootstrap.static", "main.healthz", "main.favicon"}
_SEEN = "_seen"  # when this session last made a request (epoch seconds)
_STARTED = "_started"  # when this session logged in (epoch seconds): it ends PERMANENT_SESSION_LIFETIME later


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    uid, _sep, version = user_id.partition(":")
    if db_id(uid) is None or ascii_int(version) is None:
        return None
    # The roles in the same query (every page asks for them).
    user = db.session.get(User, db_id(uid), options=[joinedload(User.role_rows)])
    if user is None or user.auth_version != int(version) or not user.active:
        return None
    return user


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, request.remote_addr)
        except LoginRefused as exc:
            db.session.commit()  # keep the failed attempt: it drives throttling
            form.password.errors.append(exc.message)
        else:
            chosen = session.get("lang")
            if chosen in current_app.config["LANGUAGES"]:
                user.locale = chosen  # a language picked on the login page sticks to the account
            db.session.commit()
            session.clear()
            login_user(user)
            session.permanent = True
            session[_SEEN] = session[_STARTED] = epoch_seconds()
            if user.must_change_password:
                flash(_("Please choose a new password."), "warning")
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        audit.record("logout")
        # A copied session cookie must not outlive the logout: the id it carries changes.
        current_user.auth_version += 1
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.old_password.data, form.password.data)
        except DomainError as exc:
            getattr(form, exc.field or "password").errors.append(exc.message)
            db.session.commit()  # nothing is changed; a wrong current password is in the audit log
        else:
            db.session.commit()
            # The auth version changed: store the new id in this session (the real
            # object, not the proxy, or current_user would resolve to itself).
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)



@bp.route("/account/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.before_app_request
def _force_password_change():
    """A reset password must be replaced before anything else is done."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and not is_api_request()  # a token acts for its account; the password is the pages' matter
        and request.endpoint not in {"auth.change_password", "auth.logout", "auth.set_language",
                                     "static", "bootstrap.static", "main.healthz"}
    ):
        return redirect(url_for("auth.change_password"))
    return None


# --- session end: idle timeout, and answers for scripts ------------------------------

def _wants_json() -> bool:
    return request.endpoint in JSON_ENDPOINTS or request.accept_mimetypes.best == "application/json"


def _session_gone():
    return jsonify(error=_("Your session has ended: log in again to go on saving. What was saved "
                           "before is kept in your drafts."), login_url=url_for("auth.login")), 401


@login_manager.unauthorized_handler
def _unauthorized():
    if _wants_json():
        return _session_gone()
    return redirect(login_url(login_manager.login_view, next_url=request.url))


def _back_here() -> str | None:
    """Where to return after logging in again: this page, or for a form post the page it came from."""
    if request.endpoint in {"auth.login", "auth.logout"}:
        return None
    if request.method == "GET":
        return request.full_path.rstrip("?")
    ref = urlsplit(request.referrer or "")
    if ref.netloc == request.host and ref.path.startswith("/"):
        return ref.path + (f"?{ref.query}" if ref.query else "")
    return None


def _keep_draft():
    """An intake form posted (or autosaved) after the timeout is kept as the user's draft,
    when its CSRF token is good; returns the draft or None."""
    if request.method != "POST" or request.endpoint not in DRAFT_ENDPOINTS:
        return None
    from flask_wtf.csrf import validate_csrf
    from wtforms.validators import ValidationError

    try:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            validate_csrf(request.form.get("csrf_token"))
        draft_id = request.form.get("draft_id", "")
        return save_draft(current_user, request.form, db_id(draft_id))
    except (ValidationError, DomainError):
        db.session.rollback()
        return None


def _idle_timeout():
    """Log out a session idle for MEDIATION_IDLE_TIMEOUT_MINUTES; runs before anything else
    (CSRF included), so a stale script call gets 401 JSON and a stale page the login form."""
    if request.endpoint in _PASSIVE_ENDPOINTS or is_api_request():  # the API has tokens, not sessions
        return None
    if not current_user.is_authenticated:
        return _session_gone() if request.endpoint in JSON_ENDPOINTS else None
    limit = int(current_app.config.get("MEDIATION_IDLE_TIMEOUT_MINUTES") or 0)
    hours = int(current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() // 3600)
    now = epoch_seconds()
    seen = session.get(_SEEN)
    started = session.setdefault(_STARTED, now)  # a session from before this rule starts its count now
    idle = limit and isinstance(seen, int) and now - seen > limit * 60
    # An absolute end besides the idle one: a copied cookie kept busy does not live for ever.
    too_old = isinstance(started, int) and now - started > hours * 3600
    if idle or too_old:
        back = _back_here()
        draft = _keep_draft()
        if draft is not None:
            back = url_for("cases.new", draft=draft.id)
        audit.record("logout", details={"reason": "idle", "minutes": limit} if idle else {"reason": "expired",
                                                                                          "hours": hours})
        db.session.commit()
        lang = session.get("lang")
        logout_user()
        session.clear()
        if lang:
            session["lang"] = lang
        if _wants_json():
            return _session_gone()
        if idle:
            flash(_("You were logged out after %(n)d minutes without activity. Please log in again.", n=limit),
                  "warning")
        else:
            flash(_("You were logged out: a login lasts at most %(n)d hours. Please log in again.", n=hours),
                  "warning")
        if draft is not None:
            flash(_("What you typed has been kept in your drafts."), "info")
        return redirect(url_for("auth.login", next=back) if back else url_for("auth.login"))
    if not isinstance(seen, int) or now - seen >= 15:  # rewrite the cookie at most every 15 s
        session[_SEEN] = now
    return None


@bp.record_once
def _first_before_request(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _idle_timeout)
