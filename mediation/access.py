"""The one access rule, written once.

A user sees and acts on the data of its own unit's subtree; everything else
answers 404, as if it did not exist. What a user may *do* there depends on its
roles (``PERMISSIONS``). Every query for units, users and cases starts from
the helpers here.

This module reads the tables (cases, transfers, users, units) but no feature's
services: the one fact it needs from a feature above it, which parties screening
protects, comes through the ``protected_party_ids`` slot (filled by screening).
"""
from collections.abc import Callable
from functools import wraps

from flask import abort, g, has_request_context, session
from flask_login import current_user, login_required
from sqlalchemy import Select, String, and_, cast, false, or_, select

from . import visibility  # noqa: F401  (its listeners keep case_visibility, which cases_query reads)
from .audit.models import AuditEvent
from .cases.models import EDITABLE_STATUSES, HOLDS, SEES, Case, CaseVisibility, case_access
from .extensions import db
from .hooks import Slot
from .memo import per_request
from .org.models import UPPER_TIERS, OrgUnit, Tier
from .transfers.models import Delegation, DelegationStatus
from .users.models import Role, User, UserRole

# Role -> actions. An action names a capability; the scope check comes on top.
_COMMON = {"home.view", "account.manage"}
_STAFF = _COMMON | {"unit.view"}
_CASEWORK = {"case.view", "case.create", "lead.view", "lead.handle"}
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.GRID_WORKER: frozenset(_COMMON | {"lead.create"}),
    Role.MEDIATOR: frozenset(_STAFF | _CASEWORK),
    Role.VIEWER: frozenset(_STAFF),
    Role.COORDINATOR: frozenset(_STAFF | _CASEWORK | {"user.view"}),
    Role.ADMIN: frozenset(_STAFF | _CASEWORK | {"user.view", "user.manage", "unit.manage", "category.manage",
                                                "audit.view"}),
}
# e家学 teaching cases (mediation/teaching): every staff role browses the library; the station reviews.
PERMISSIONS.update({r: PERMISSIONS[r] | {"teaching.view"} for r in (Role.MEDIATOR, Role.COORDINATOR, Role.VIEWER)})
PERMISSIONS[Role.ADMIN] = PERMISSIONS[Role.ADMIN] | {"teaching.view", "teaching.review"}
# Statistics (mediation/stats): coordinators, admins and viewers see them; village staff confirm their month.
PERMISSIONS.update({r: PERMISSIONS[r] | a for r, a in ((Role.COORDINATOR, {"stats.view", "stats.confirm"}), (Role.ADMIN, {"stats.view", "stats.confirm"}), (Role.VIEWER, {"stats.view"}), (Role.MEDIATOR, {"stats.confirm"}))})  # noqa: E501


# What the users of a city or province unit may do: see the network, its people and its
# statistics, and (administrators) manage accounts and units; never a case, a lead or the log.
UPPER_ACTIONS = frozenset(_STAFF | {"user.view", "user.manage", "unit.manage", "stats.view", "teaching.view"})


def actions_of(user) -> frozenset[str]:
    """Every action any of the user's roles grants (above the districts, only ``UPPER_ACTIONS``)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    out: set[str] = set()
    for role in user.roles:
        out |= PERMISSIONS[role]
    if user.unit.tier in UPPER_TIERS:
        out &= UPPER_ACTIONS
    return frozenset(out)


def in_scope(user, unit: OrgUnit | None) -> bool:
    """True when ``unit`` lies in the user's subtree."""
    return unit is not None and user.is_authenticated and user.unit.contains(unit)


def can(user, action: str, unit: OrgUnit | None = None) -> bool:
    """May ``user`` do ``action`` (on data held by ``unit``, when given)?"""
    if action not in actions_of(user):
        return False
    return unit is None or in_scope(user, unit)


def is_station_admin(user) -> bool:
    """An administrator of a district's station (the top of its 1+9+X network): reads the
    whole audit log, sets legal holds."""
    return bool(can(user, "audit.view") and user.unit.tier is Tier.STATION)


def audit_query(user) -> Select:
    """The log a station administrator reads. With one district in the deployment, all of it;
    with several, what the people of their own district did (the log names cases and keeps
    the reasons typed to open restricted ones: another district's are not theirs to read) and
    what was done to its accounts and units. An event belongs to the district its actor worked
    in when it was written; a person moved from another district does not bring their earlier
    events along (events written before the log kept the actor's unit go by where they are now)."""
    if not is_station_admin(user):
        return select(AuditEvent).where(false())
    stations = db.session.scalars(select(OrgUnit.id).where(OrgUnit.tier == Tier.STATION).limit(2)).all()
    if len(stations) <= 1:
        return select(AuditEvent)
    people = select(User.id).where(User.unit_id.in_(visible_units(user)))
    # Also what was done to the district's accounts and units from above (a city's or the
    # province's administrator resetting or moving an account), but not what another district
    # did to an account before it moved here.
    above = user.unit.path_ids[:-1]
    from_here_or_above = or_(AuditEvent.actor_unit_id.is_(None), AuditEvent.actor_unit_id.in_(visible_units(user)),
                             AuditEvent.actor_unit_id.in_(above))
    return select(AuditEvent).where(or_(
        AuditEvent.actor_unit_id.in_(visible_units(user)),
        and_(AuditEvent.actor_unit_id.is_(None), AuditEvent.actor_id.in_(people)),
        and_(from_here_or_above, AuditEvent.target_type == "user", AuditEvent.target_id.in_(
            people.with_only_columns(cast(User.id, String)))),
        and_(from_here_or_above, AuditEvent.target_type == "unit", AuditEvent.target_id.in_(
            visible_units(user).with_only_columns(cast(OrgUnit.id, String)))),
    ))


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


# --- cases -------------------------------------------------------------------------

def cases_query(user) -> Select:
    """Every case query starts here. A user sees a case when its holder, any unit
    it passed through, the unit it waits at (a pending transfer) or a unit given a
    follow-up visit on it lies in the user's subtree. Only the holder's people act
    on it (``case_roles``); the others read.

    The rule is kept ahead in ``case_visibility`` (``mediation.visibility``): one row per
    case and unit that sees it, ancestors included, so the query joins the rows of the
    user's own unit. Order lists by its columns (``CaseVisibility.intake_date``, ...) to
    walk an index (``cases.views.LIST_KEYS``)."""
    if "case.view" not in actions_of(user):
        return select(Case).where(False)
    return _cases_seen_at(user, user.unit_id)


def _named(user):
    """A restricted case: only the users named for it, whatever their scope."""
    return or_(CaseVisibility.restricted.is_(False),
               CaseVisibility.case_id.in_(select(case_access.c.case_id).where(case_access.c.user_id == user.id)))


def _cases_seen_at(user, unit_id: int) -> Select:
    return select(Case).join(CaseVisibility, and_(CaseVisibility.case_id == Case.id,
                                                  CaseVisibility.unit_id == unit_id)).where(_named(user))


def visible_case_ids(user) -> Select:
    """The ids of ``cases_query(user)``, read from ``case_visibility`` alone (for ``IN``)."""
    return case_rows(user)


def case_rows(user, unit: OrgUnit | None = None, *, held: bool = False) -> Select:
    """``select(CaseVisibility.case_id)`` of the cases the user sees (``held``: that its
    subtree holds; ``unit``: that a unit of its subtree holds), without the case table:
    filter and count on the columns of ``CaseVisibility``."""
    if "case.view" not in actions_of(user) or (unit is not None and not in_scope(user, unit)):
        return select(CaseVisibility.case_id).where(false())
    stmt = select(CaseVisibility.case_id).where(CaseVisibility.unit_id == (unit or user.unit).id, _named(user))
    return stmt.where(CaseVisibility.held != SEES) if held or unit is not None else stmt


def sees_case(user, case_id_column):
    """A condition on another table's case id: the user sees that case (one index lookup
    per row, where ``IN (cases_query ...)`` would list the whole area first). A scalar
    subquery with LIMIT, not EXISTS: PostgreSQL turns EXISTS into a hash of every case of
    the area (113,000 at 1,000,000 cases: 30 ms for an inbox page of 50)."""
    if "case.view" not in actions_of(user):
        return false()
    return select(CaseVisibility.case_id).where(
        CaseVisibility.case_id == case_id_column, CaseVisibility.unit_id == user.unit_id, _named(user)
    ).limit(1).scalar_subquery().is_not(None)


# --- restricted cases: content only after the opening reason ------------------------------

OPENED_RESTRICTED = "opened_restricted"  # session key: restricted cases this login gave a reason for


def opened_restricted_ids() -> list[int]:
    """The restricted cases whose opening reason was given (and audited) in this login."""
    if not has_request_context():
        return []
    return [i for i in session.get(OPENED_RESTRICTED, []) if isinstance(i, int)]


def mark_opened(case_id: int) -> None:
    """This login gave its reason for the restricted case (or restricted it itself, with one)."""
    if case_id not in session.get(OPENED_RESTRICTED, []):
        session[OPENED_RESTRICTED] = [*session.get(OPENED_RESTRICTED, []), case_id][-50:]


def content_shown_clause():
    """Cases whose content may be shown now: not restricted, or opened with a reason. Lists,
    search, exports and the diary book add it to ``cases_query``: a restricted case shows
    its number at most until it is opened (``restricted.open_case``)."""
    return or_(Case.restricted.is_(False), Case.id.in_(opened_restricted_ids()))


def content_shown_rows():
    """``content_shown_clause`` on the columns of ``CaseVisibility`` (for ``case_rows``)."""
    return or_(CaseVisibility.restricted.is_(False), CaseVisibility.case_id.in_(opened_restricted_ids()))


def content_hidden(case) -> bool:
    """Whether ``case``'s content waits for the opening reason."""
    return bool(case.restricted) and case.id not in opened_restricted_ids()


def held_cases_query(user, unit: OrgUnit | None = None) -> Select:
    """Cases the user's subtree holds now: what it has to work on. With ``unit`` (a unit
    of the user's subtree): the cases that unit's subtree holds."""
    if "case.view" not in actions_of(user) or (unit is not None and not in_scope(user, unit)):
        return select(Case).where(False)
    if unit is None or unit.id == user.unit_id:
        return cases_query(user).where(CaseVisibility.held != SEES)
    # Held below ``unit``, which lies in the user's subtree: seen by the user too.
    return _cases_seen_at(user, unit.id).where(CaseVisibility.held != SEES)


def unit_cases_query(user) -> Select:
    """Cases the user's own unit holds (not those below it)."""
    if "case.view" not in actions_of(user):
        return select(Case).where(False)
    return cases_query(user).where(CaseVisibility.held == HOLDS)


def get_case_or_404(case_id: int, user=None):
    user = user or current_user
    return db.first_or_404(cases_query(user).where(Case.id == case_id))


def unit_has_coordinator(unit: OrgUnit) -> bool:
    """An active coordinator (or, at the station, admin) whose own unit is this one
    (asked once per unit and request)."""
    known = g.setdefault("units_with_coordinator", {}) if has_request_context() else {}
    if unit.id not in known:
        known[unit.id] = db.session.scalar(
            select(User.id).join(UserRole).where(
                User.unit_id == unit.id, User.active.is_(True), UserRole.role.in_([Role.COORDINATOR, Role.ADMIN])
            ).limit(1)
        ) is not None
    return known[unit.id]


def is_manager_of(user, unit: OrgUnit) -> bool:
    """May ``user`` accept, assign, reopen and archive cases held by ``unit``?
    A coordinator (or admin) acts for its unit and every unit below it; where a
    unit has no coordinator of its own, its mediators manage its cases themselves."""
    if not in_scope(user, unit):
        return False
    roles = user.roles
    if roles & {Role.COORDINATOR, Role.ADMIN}:
        return True
    return Role.MEDIATOR in roles and user.unit_id == unit.id and not unit_has_coordinator(unit)


def receivers_at(unit: OrgUnit) -> Select:
    """The active people of ``unit`` itself who take in a case sent to it (``is_manager_of``):
    its coordinators and admins, or, where it has none, its mediators."""
    roles = [Role.COORDINATOR, Role.ADMIN] if unit_has_coordinator(unit) else [Role.MEDIATOR]
    return select(User).where(User.unit_id == unit.id, User.active.is_(True),
                              User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles)))).order_by(User.id)


def may_assign_others(user, unit: OrgUnit) -> bool:
    """Coordinators and admins assign anyone eligible; a mediator managing its own
    village's case (no coordinator there) may only take the lead itself."""
    return bool(user.roles & {Role.COORDINATOR, Role.ADMIN}) and in_scope(user, unit)


def case_roles(user, case) -> frozenset[str]:
    """What the user is for this case (see workflow): "manager" and/or "mediator"
    of the holding unit ("supervisor": a manager who is a coordinator or admin);
    while a transfer waits, "sender" (who sent it, or the sending unit's own
    people) and "receiver" (who manages the receiving unit).
    Units the case only passed through get nothing here: they read, not act."""
    if not getattr(user, "is_authenticated", False) or "case.view" not in actions_of(user):
        return frozenset()
    out = set()
    if in_scope(user, case.unit):
        if is_manager_of(user, case.unit):
            out.add("manager")
            if user.roles & {Role.COORDINATOR, Role.ADMIN}:
                out.add("supervisor")  # a coordinator proper (e.g. to lower a risk level)
        if user.id in case.mediator_ids:
            out.add("mediator")
    pending = case.pending_transfer
    if pending is not None:
        if user.id == pending.created_by_id or (out and user.unit_id == pending.from_unit_id):
            out.add("sender")
        if user.id != pending.created_by_id and is_manager_of(user, pending.to_unit):
            out.add("receiver")
    return frozenset(out)


def acts_on(user, case) -> bool:
    """May the user work on the case's record (diary, agreement, files): its holder's people."""
    return bool(case_roles(user, case) & {"manager", "mediator"})


def open_delegations_for(user, case) -> list[Delegation]:
    """Open visits on this case given to the user's own unit or, for a coordinator or admin, to a
    unit below theirs (who acts for it). A station mediator does not do a village's visit."""
    if not getattr(user, "is_authenticated", False) or "case.create" not in actions_of(user):
        return []
    above = bool(user.roles & {Role.COORDINATOR, Role.ADMIN})
    return [d for d in delegations_of(case) if d.status is DelegationStatus.OPEN
            and (d.unit_id == user.unit_id or (above and user.unit.contains(d.unit)))]


def delegations_of(case) -> list[Delegation]:
    """The case's follow-up visits, oldest first (read once per request)."""
    return per_request(("delegations_of", case.id), lambda: list(db.session.scalars(
        select(Delegation).where(Delegation.case_id == case.id).order_by(Delegation.id))))


def is_delegate(user, case) -> bool:
    """Is an open follow-up visit on this case given to a unit in the user's subtree?
    Such a user may write diary entries on the case (nothing else)."""
    return bool(open_delegations_for(user, case))


# Whose address and phone are hidden (a set of party ids); provided by screening.
protected_party_ids = Slot("protected_party_ids", "ids of the case's parties whose contacts are protected")


def can_edit_case(user, case) -> bool:
    if not (case.status in EDITABLE_STATUSES and acts_on(user, case)):
        return False
    # The form shows every party's address and phone: protected ones are for the case's mediators only.
    return user.id in case.mediator_ids or not protected_party_ids(case)


def mediator_candidates(unit: OrgUnit) -> Select:
    """Who may mediate a case held by ``unit``: active mediators and coordinators
    of the unit or of its parent."""
    units = [unit.id] + ([unit.parent_id] if unit.parent_id and unit.tier is not Tier.STATION else [])
    with_role = select(UserRole.user_id).where(UserRole.role.in_([Role.MEDIATOR, Role.COORDINATOR]))
    return (
        select(User)
        .where(User.unit_id.in_(units), User.active.is_(True), User.id.in_(with_role))
        .order_by(User.unit_id.desc(), User.display_name)
    )


# --- view helpers -------------------------------------------------------------

def require(action: str) -> Callable:
    """Login required, and the action granted by one of the user's roles, else 403 (404 for
    the users of a city or province, for whom cases do not exist). (Data outside the
    user's subtree answers 404 through the scoped getters.)"""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(current_user, action):
                # Above the districts there is no case, lead or log to see: as if none existed.
                abort(404 if current_user.unit.tier in UPPER_TIERS and action not in UPPER_ACTIONS else 403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def init_app(app) -> None:
    @app.context_processor
    def _inject():
        return {"can": lambda action, unit=None: can(current_user, action, unit)}
