"""Who makes an API request: the bearer token, and nothing else.

A request under ``/api/`` never reads or writes the browser session (its cookie is ignored, so
a logged-in page cannot be used to call the API, and CSRF has nothing to ride on); the token's
user is the request's ``current_user``, set before any other hook runs. The documentation
(``/api/v1/openapi.json``, ``/api/v1/docs``) is public."""
from flask import g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin

from ..access import OPENED_RESTRICTED
from ..audit.services import API_TOKEN_KEY
from ..errors import is_api_request, problem
from . import tokens
from .common import TOKEN

PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "api_docs.reference", "api_docs.asset"}


class ApiAwareSessions(SecureCookieSessionInterface):
    """The pages' signed-cookie session; an API request gets an empty one, never saved."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return SecureCookieSession()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if is_api_request():
            return None
        return super().save_session(app, session, response)


def _authenticate():
    if not is_api_request():
        return None
    g._login_user = AnonymousUserMixin()  # never the session's user
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None  # the documents, and unknown paths (404)
    try:
        token = tokens.authenticate(request.headers.get("Authorization"), request.remote_addr)
    except tokens.TokenRefused as exc:
        if exc.throttled:
            return problem(429, _("Too many requests"), exc.message, headers={"Retry-After": "900"})
        return problem(401, _("Not authenticated"), exc.message, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    g._login_user = token.user
    g.setdefault(TOKEN, token)
    g.setdefault(API_TOKEN_KEY, token.name)
    # Restricted cases opened through this token, as a login session remembers them for the pages.
    session[OPENED_RESTRICTED] = tokens.opened_case_ids(token)
    return None


def init_app(app) -> None:
    app.session_interface = ApiAwareSessions()
    # First of all hooks: the idle timeout, the forced password change and the rest see the token's user.
    app.before_request_funcs.setdefault(None, []).insert(0, _authenticate)
