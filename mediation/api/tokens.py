"""Personal API tokens: made, named, listed and revoked by their user (or made for a service
account by ``flask api token create``); only a hash is stored. A token acts as its user.

Bearer attempts with a token that is unknown or revoked are counted per client address like
failed logins (``users.services.count_failure``, the login throttle's table and window): over
``API_MAX_FAILURES_PER_ADDRESS`` in a window, every bearer request from that address is refused
until the window ends. Services flush; the caller commits."""
import hashlib
import secrets
import unicodedata

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..errors import DomainError
from ..extensions import db
from ..timeutil import epoch_seconds, utcnow
from ..users import services as users
from ..users.models import User
from .models import ApiToken

PREFIX = "mdt_"  # every token starts so: secret scanners and people can tell what it is
NAME_MAX = 64
THROTTLE_KIND = "t"  # the login throttle's key kind for bearer failures


class TokenRefused(DomainError):
    """No usable token: the request answers 401 (or 429 when throttled)."""

    def __init__(self, message: str, *, throttled: bool = False):
        super().__init__(message)
        self.throttled = throttled


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: User, name: str, *, by: User | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the secret (shown once, never stored).

    :raise DomainError: no name, a name too long, or the name of a token not revoked."""
    # NFKC: full-width letters and digits and composed accents are one name, as they look.
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name:
        raise DomainError(_("Give the token a name (what it is for)."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(_("At most %(max)d characters.", max=NAME_MAX), field="name")
    if not user.active:
        raise DomainError(_("The account is inactive."), field="user")
    # One working token per name: a form sent again (back and resubmit) makes no second one, and
    # the list says which system holds which token.
    if db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id,
                                                   func.lower(ApiToken.name) == name.lower(),
                                                   ApiToken.revoked_at.is_(None)).limit(1)) is not None:
        raise DomainError(_("You already have a token named “%(name)s”. Revoke it first, or choose another name.",
                            name=name), field="name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=digest(secret), prefix=secret[:len(PREFIX) + 6],
                     created_by_id=(by or user).id, opened={})
    db.session.add(token)
    db.session.flush()
    audit.record("api.token_create", target=("api_token", token.id), actor=by or user,
                 details={"name": name, "username": user.username})
    return token, secret


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def revoke(token: ApiToken, *, by: User) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api.token_revoke", target=("api_token", token.id), actor=by,
                     details={"name": token.name, "username": token.user.username})
    db.session.flush()


def authenticate(header: str | None, address: str) -> ApiToken:
    """The active token named by an ``Authorization: Bearer`` header, with an active user.

    :raise TokenRefused: no token, an unknown or revoked one, an inactive user, or too many
        failed attempts from this address."""
    address = (address or "unknown").replace("\x00", "")[:64]
    scheme, _sep, secret = (header or "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise TokenRefused(_("Send an API token: Authorization: Bearer <token>."))
    limit = int(current_app.config["API_MAX_FAILURES_PER_ADDRESS"])
    window = int(current_app.config["LOGIN_WINDOW_MINUTES"])
    too_many = _("Too many requests with a wrong token. Please wait %(minutes)d minutes and try again.",
                 minutes=window)
    if users.failures_at(THROTTLE_KIND, address) >= limit:
        raise TokenRefused(too_many, throttled=True)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret[:200])))
    if token is None or token.revoked_at is not None or not token.user.active:
        reason = "unknown" if token is None else "revoked" if token.revoked_at else "inactive"
        users.count_failure(THROTTLE_KIND, address)
        audit.record("api.token_refused", actor=token.user if token else None,
                     actor_name=token.user.username if token else "",
                     details={"reason": reason, **({"name": token.name} if token else {})})
        db.session.commit()
        raise TokenRefused(_("The API token is not valid: it is unknown or revoked, or its account is inactive."))
    now = utcnow()
    # Written at most once a minute: a busy client does not turn every read into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= 60 \
            or token.last_used_ip != address:
        token.last_used_at = now
        token.last_used_ip = address
        db.session.commit()
    return token


# --- restricted cases opened through a token --------------------------------------------------

def opened_case_ids(token: ApiToken) -> list[int]:
    """The restricted cases opened with a reason through this token, for as long as a login lasts."""
    hours = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    now = epoch_seconds()
    return [int(k) for k, at in (token.opened or {}).items()
            if str(k).isdigit() and isinstance(at, int) and now - at <= hours]


def remember_opened(token: ApiToken, case_id: int) -> None:
    kept = {str(i): (token.opened or {}).get(str(i)) for i in opened_case_ids(token)}
    kept[str(case_id)] = epoch_seconds()
    token.opened = dict(sorted(kept.items(), key=lambda kv: kv[1])[-50:])
    db.session.flush()
