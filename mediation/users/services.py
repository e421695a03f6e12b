"""Accounts: login with throttling, creation, passwords. Services flush; the caller commits."""
import json
import re
import secrets
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.security import check_password_hash

from .. import access, audit
from ..cases.models import Case, case_access
from ..errors import DomainError
from ..extensions import db
from ..org.models import OrgUnit
from ..parsing import phone_number
from ..timeutil import epoch_seconds, utcnow
from .models import LoginAttempt, LoginThrottle, User, hash_password

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.json"


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords plus ones common in China, in lower case
    (mediation/data/common_passwords.json says where they come from)."""
    return frozenset(json.loads(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8"))["passwords"])


class LoginRefused(DomainError):
    """Wrong username or password, or too many tries; the message never says which user exists."""


def _window_number() -> int:
    return epoch_seconds() // (60 * int(current_app.config["LOGIN_WINDOW_MINUTES"]))


def _upsert(key: str, window: int, add: int):
    """INSERT ... ON CONFLICT DO UPDATE: one atomic statement on SQLite and PostgreSQL."""
    dialect = db.engine.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(LoginThrottle).values(key=key, window=window, failures=max(add, 0))
    return stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={"failures": func.max(LoginThrottle.failures + add, 0) if dialect == "sqlite"
              else func.greatest(LoginThrottle.failures + add, 0)},
    ).returning(LoginThrottle.failures)


def _throttle_keys(username: str, address: str, window: int) -> tuple[str, str]:
    # Per address: every failure from it. Per username *at that address*: so that guesses from
    # elsewhere cannot lock the owner out of their own login.
    return f"{window}|a|{address}", f"{window}|u|{address}|{username}"


def _reserve(username: str, address: str) -> bool:
    """Count this attempt as a failure before the password is checked, in its own committed
    transaction (a row lock on PostgreSQL, the write lock on SQLite): of parallel guesses,
    exactly as many as the limits allow get evaluated. False: over a limit."""
    cfg = current_app.config
    window = _window_number()
    by_address, by_user = _throttle_keys(username, address, window)
    with db.engine.begin() as conn:
        conn.execute(delete(LoginThrottle).where(LoginThrottle.window < window - 1))
        n_address = conn.execute(_upsert(by_address, window, 1)).scalar_one()
        n_user = conn.execute(_upsert(by_user, window, 1)).scalar_one()
    return n_address <= cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"] and n_user <= cfg["LOGIN_MAX_FAILURES_PER_USERNAME"]


def _succeeded(username: str, address: str) -> None:
    """A success is no failure: take it off the address's count (which successes never reset,
    or one known account would let an address guess at others for ever) and start this
    username's count at the address afresh."""
    window = _window_number()
    by_address, by_user = _throttle_keys(username, address, window)
    with db.engine.begin() as conn:
        conn.execute(_upsert(by_address, window, -1))
        conn.execute(delete(LoginThrottle).where(LoginThrottle.key == by_user))


def failures_at(kind: str, address: str) -> int:
    """Failures counted in the current window under ``kind`` (e.g. "t": API tokens) for an address."""
    key = f"{_window_number()}|{kind}|{(address or 'unknown')[:64]}"
    return db.session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key)) or 0


def count_failure(kind: str, address: str, n: int = 1) -> int:
    """Count one failure (``n``: -1 takes one off) under ``kind`` for an address, in its own
    committed transaction (the same atomic upsert as a failed login); returns the window's
    count so far."""
    window = _window_number()
    with db.engine.begin() as conn:
        conn.execute(delete(LoginThrottle).where(LoginThrottle.window < window - 1))
        return conn.execute(_upsert(f"{window}|{kind}|{(address or 'unknown')[:64]}", window, n)).scalar_one()


def authenticate(username: str, password: str, address: str) -> User:
    """Check a login; record the attempt.

    :raise LoginRefused: wrong credentials, inactive account, or throttled.
    """
    cfg = current_app.config
    username = normalise_username(username).replace("\x00", "")[:64]  # PostgreSQL stores no NUL
    address = (address or "unknown").replace("\x00", "")[:64]
    window = cfg["LOGIN_WINDOW_MINUTES"]
    if not _reserve(username, address):
        audit.record("login_failed", actor_name=username, details={"reason": "throttled"})
        raise LoginRefused(
            _("Too many failed logins. Please wait %(minutes)d minutes and try again.", minutes=window)
        )
    user = db.session.scalar(select(User).where(User.username == username))
    # An unknown username costs as much time as a wrong password.
    password_ok = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    ok = password_ok and user is not None and user.active
    db.session.add(LoginAttempt(username=username, address=address, success=ok))
    if not ok:
        # The log says why; the user is told the same either way.
        reason = "unknown_user" if user is None else "inactive" if password_ok else "wrong_password"
        audit.record("login_failed", actor=user, actor_name=username, details={"reason": reason})
        db.session.flush()
        raise LoginRefused(_("Wrong username or password."))
    _succeeded(username, address)
    audit.record("login", actor=user)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))


def check_password_policy(password: str, username: str = "") -> None:
    """:raise DomainError: when the password is too short or too easy to guess."""
    min_len = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < min_len:
        raise DomainError(_("The password needs at least %(n)d characters.", n=min_len), field="password")
    if len(password) > 128:
        raise DomainError(_("The password may have at most 128 characters."), field="password")
    low = password.lower()
    if username and username.strip().lower() in low:
        raise DomainError(_("The password must not contain the username."), field="password")
    # A common password with digits or symbols tacked on (iloveyou123, password!) is as easy to guess.
    import re

    stem = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", low)
    if low in common_passwords() or (len(stem) >= 4 and stem in common_passwords()) or len(set(password)) < 4:
        raise DomainError(_("This password is too easy to guess; choose another."), field="password")


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored and looked up in lower case."""
    return (username or "").strip().lower()


def check_username(username: str) -> str:
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise DomainError(
            _("A username has 3 to 64 letters, digits, dots, hyphens or underscores."), field="username"
        )
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DomainError(_("The username %(u)s is taken.", u=username), field="username")
    return username


def check_phone(phone: str) -> str:
    """The phone as stored (``parsing.phone_number``: spaces, hyphens, +86 taken off)."""
    value = phone_number(phone)
    if value is None:
        raise DomainError(_("Enter an 11-digit mobile number or a landline such as 0519-82812345."),
                          field="phone")
    return value


def create_user(
    *, username: str, display_name: str, unit: OrgUnit, roles, password: str,
    phone: str = "", password_hash: str | None = None, check_policy: bool = True,
) -> User:
    """Create an account. ``password_hash`` lets the demo loader reuse one hash."""
    username = check_username(username)
    display_name = (display_name or "").strip() or username
    if len(display_name) > 64:
        raise DomainError(_("The name may have at most %(max)d characters.", max=64), field="display_name")
    roles = set(roles)
    if not roles:
        raise DomainError(_("Choose at least one role."), field="roles")
    if not unit.active:
        raise DomainError(_("The unit is inactive."), field="unit")
    if password_hash is None:
        if check_policy:
            check_password_policy(password, username)
        password_hash = hash_password(password)
    user = User(username=username, display_name=display_name, phone=check_phone(phone),
                unit=unit, password_hash=password_hash)
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, *, display_name: str, phone: str, unit: OrgUnit, roles, actor: User) -> None:
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError(_("Please enter a name."), field="display_name")
    if len(display_name) > 64:
        raise DomainError(_("The name may have at most %(max)d characters.", max=64), field="display_name")
    roles = set(roles)
    if not roles:
        raise DomainError(_("Choose at least one role."), field="roles")
    if unit.id != user.unit_id and not unit.active:
        raise DomainError(_("The unit is inactive."), field="unit")
    # No one widens their own reach: a city administrator moving themselves to a district's
    # station as a mediator would read its cases. Another administrator has to do it (audited).
    if user.id == actor.id and unit.id != user.unit_id:
        raise DomainError(_("You cannot move your own account; ask another administrator."), field="unit")
    if user.id == actor.id and roles != set(user.roles):
        raise DomainError(_("You cannot change your own roles; ask another administrator."), field="roles")
    supervised = _supervised_restricted(user)
    moved = unit.id != user.unit_id
    user.display_name = display_name
    user.phone = check_phone(phone)
    if moved:
        user.inbox_synced_at = None  # cases held elsewhere now: the next look reads back in full
    user.unit = unit
    user.set_roles(roles)
    # Told beside what was changed: the unit when only the unit was (QA: it showed under the roles).
    _keep_supervised(user, supervised, field="unit" if moved and roles == set(user.roles) else "roles")
    db.session.flush()


def _supervised_restricted(user: User) -> set[int]:
    """The restricted cases naming ``user`` that have an active coordinator or administrator over
    their unit among their named people (one who can see them to lift the restriction)."""
    cases = db.session.scalars(select(Case).join(case_access, case_access.c.case_id == Case.id).where(
        case_access.c.user_id == user.id, Case.restricted.is_(True))).all()
    return {case.id for case in cases if any(u.active and "supervisor" in access.case_roles(u, case)
                                             for u in case.named_users)}


def _keep_supervised(user: User, before: set[int], field: str | None = None) -> None:
    """Refuse a change (made, not yet flushed) after which a restricted case would be left with
    nobody to lift its restriction (the attack review). Counted, not named: the administrator
    making the change may not be named on them."""
    lost = before - _supervised_restricted(user) if before else set()
    if lost:
        raise DomainError(_("%(name)s is the only one who can lift the restriction on %(n)d restricted case(s): "
                            "ask them to name another coordinator or administrator on those cases first.",
                            name=user.display_name, n=len(lost)), field=field)


def change_password(user: User, old: str, new: str) -> None:
    # Guesses at the current password (from a session left open) are throttled like logins:
    # each try is counted before the password is checked (its own committed transaction), so
    # parallel guesses get no more checks than the limit; a right one is taken off again.
    cfg = current_app.config
    key = f"user:{user.id}"
    if count_failure("p", key) > cfg["LOGIN_MAX_FAILURES_PER_USERNAME"]:
        raise DomainError(_("Too many wrong passwords. Please wait %(minutes)d minutes and try again.",
                            minutes=cfg["LOGIN_WINDOW_MINUTES"]), field="old_password")
    if not user.check_password(old or ""):
        audit.record("password_change_failed", actor=user, target=user)  # the view commits it
        raise DomainError(_("The current password is wrong."), field="old_password")
    count_failure("p", key, -1)
    if old == new:
        raise DomainError(_("Choose a password different from the current one."), field="password")
    check_password_policy(new, user.username)
    user.set_password(new)
    user.must_change_password = False
    user.auth_version += 1
    audit.record("password_change", actor=user, target=user)
    db.session.flush()


def reset_password(user: User) -> str:
    """Give the user a one-time password to change at next login; returns it."""
    temporary = "-".join(secrets.token_hex(2) for _i in range(3))  # e.g. 3f9a-07c2-b1d4
    user.set_password(temporary)
    user.must_change_password = True
    user.auth_version += 1  # logs out every open session
    db.session.flush()
    return temporary


def set_user_active(user: User, active: bool, *, actor: User) -> None:
    if not active and user.id == actor.id:
        raise DomainError(_("You cannot deactivate your own account."))
    if active and not user.unit.active:
        raise DomainError(_("The user's unit is inactive; move the user first."))
    supervised = _supervised_restricted(user) if not active and user.active else set()
    if user.active != active:
        user.active = active
        user.auth_version += 1
    _keep_supervised(user, supervised)
    db.session.flush()

