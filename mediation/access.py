"""The one access rule, written once.

A user sees and acts on the data of its own unit's subtree; everything else
answers 404, as if it did not exist. What a user may *do* there depends on its
roles (``PERMISSIONS``). Every query for units, users and (later) cases starts
from the helpers here.
"""
from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from .extensions import db
from .org.models import OrgUnit
from .users.models import Role, User

# Role -> actions. An action names a capability; the scope check comes on top.
_COMMON = {"home.view", "account.manage"}
_STAFF = _COMMON | {"unit.view"}
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.GRID_WORKER: frozenset(_COMMON),
    Role.MEDIATOR: frozenset(_STAFF),
    Role.VIEWER: frozenset(_STAFF),
    Role.COORDINATOR: frozenset(_STAFF | {"user.view"}),
    Role.ADMIN: frozenset(_STAFF | {"user.view", "user.manage", "unit.manage"}),
}


def actions_of(user) -> frozenset[str]:
    """Every action any of the user's roles grants."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    out: set[str] = set()
    for role in user.roles:
        out |= PERMISSIONS[role]
    return frozenset(out)


def in_scope(user, unit: OrgUnit | None) -> bool:
    """True when ``unit`` lies in the user's subtree."""
    return unit is not None and user.is_authenticated and user.unit.contains(unit)


def can(user, action: str, unit: OrgUnit | None = None) -> bool:
    """May ``user`` do ``action`` (on data held by ``unit``, when given)?"""
    if action not in actions_of(user):
        return False
    return unit is None or in_scope(user, unit)


# --- scoped queries ---------------------------------------------------------

def visible_units(user) -> Select:
    """Ids of the units in the user's subtree, as a subquery."""
    return select(OrgUnit.id).where(OrgUnit.path.startswith(user.unit.path, autoescape=True))


def scoped(stmt: Select, user, unit_col) -> Select:
    """Restrict ``stmt`` to rows whose ``unit_col`` lies in the user's subtree."""
    return stmt.where(unit_col.in_(visible_units(user)))


def units_query(user) -> Select:
    return scoped(select(OrgUnit), user, OrgUnit.id)


def users_query(user) -> Select:
    return scoped(select(User), user, User.unit_id)


def get_unit_or_404(code: str, user=None) -> OrgUnit:
    user = user or current_user
    return db.first_or_404(units_query(user).where(OrgUnit.code == code))


def get_user_or_404(user_id: int, user=None) -> User:
    user = user or current_user
    return db.first_or_404(users_query(user).where(User.id == user_id))


# --- view helpers -------------------------------------------------------------

def require(action: str) -> Callable:
    """Login required, and the action granted by one of the user's roles, else 403.
    (Data outside the user's subtree answers 404 through the scoped getters.)"""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def init_app(app) -> None:
    @app.context_processor
    def _inject():
        return {"can": lambda action, unit=None: can(current_user, action, unit)}
