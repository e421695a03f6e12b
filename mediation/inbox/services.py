"""What needs whom. Two sources fill the inbox: events (a case arrives, is returned,
assigned, settled...) through ``notify``, and things coming due (overdue cases,
planned sessions, follow-ups, judicial-confirmation deadlines, late transfers,
escalation advice) found by ``sync_due``. Delivery beyond the inbox goes through
the channels in ``NOTIFY_CHANNELS`` (one interface: ``send(user, notification)``),
after the transaction commits; none is configured by default. ``init_app`` connects the
inbox to the workflow's steps and to delegated visits."""
import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, has_request_context
from sqlalchemy import event, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, selectinload
from werkzeug.utils import import_string

from .. import access
from ..agreements import services as agreements
from ..agreements.models import Agreement
from ..cases import workflow
from ..cases.models import SETTLED, Case, CaseStatus, CaseVisibility, RiskLevel, case_co_mediator
from ..cases.services import WORKING_STATUSES, is_overdue, overdue_clause
from ..diary.models import DiaryEntry, EntryKind
from ..extensions import db
from ..org.models import OrgUnit
from ..paging import Key, Page, bounded_counts, keyset_page
from ..retention.services import anonymiser
from ..timeutil import epoch_seconds, local_today, utcnow
from ..transfers import services as transfers
from ..transfers.models import CaseHolding, Delegation, Transfer, TransferStatus
from ..users.models import Role, User, UserRole
from .models import Notification

log = logging.getLogger(__name__)


# --- who -----------------------------------------------------------------------------------

def unit_managers(unit) -> list[User]:
    """Who decides for a unit: its own active coordinators (or admins); where it has
    none, its mediators (see ``access.is_manager_of``)."""
    def with_roles(roles):
        return list(db.session.scalars(
            select(User).join(UserRole).where(User.unit_id == unit.id, User.active.is_(True),
                                              UserRole.role.in_(roles)).distinct().order_by(User.id)))

    return with_roles([Role.COORDINATOR, Role.ADMIN]) or with_roles([Role.MEDIATOR])


def case_people(case) -> list[User]:
    people = [case.lead_mediator] if case.lead_mediator else []
    return people + [u for u in case.co_mediators if u not in people]


# --- events --------------------------------------------------------------------------------

def notify(users, kind: str, case=None, *, key: str | None = None, checked: bool = False,
           **params) -> list[Notification]:
    """Put one item in each user's inbox (once per ``key``) and queue its delivery
    (``checked``: the caller knows the key is new for these users)."""
    out = []
    seen = set()
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        item_key = key or f"{kind}:{case.id if case else 0}:{utcnow().isoformat()}"
        if not checked and db.session.scalar(select(Notification.id).where(Notification.user_id == user.id,
                                                                           Notification.key == item_key)):
            continue
        n = Notification(user_id=user.id, kind=kind, key=item_key, case_id=case.id if case else None,
                         params=params)
        db.session.add(n)
        out.append(n)
        db.session.info.setdefault("outbox", []).append((user.id, n))
    return out


def after_transition(case, name: str, event_row, by) -> None:
    """Tell the people a workflow step concerns (on ``workflow.transitioned``)."""
    key = f"{name}:{event_row.id}"
    changes = event_row.changes or {}
    transfer = db.session.get(Transfer, changes["transfer"]) if "transfer" in changes else None
    others = [] if by is None else [by.id]

    def tell(users, kind, **params):
        notify([u for u in users if u.id not in others], kind, case, key=key, **params)

    done_kinds = {"receive": ("transfer_in",), "return": ("transfer_in",), "withdraw": ("transfer_in",),
                  "escalate": ("escalation_advised",)}.get(name)
    if done_kinds:
        # Dealt with: "accept or return it" items of every receiver; "consider escalating" once escalated.
        db.session.execute(update(Notification).where(
            Notification.case_id == case.id, Notification.kind.in_(done_kinds), Notification.read_at.is_(None))
            .values(read_at=utcnow()).execution_options(synchronize_session=False))
    if name in ("escalate", "hand_down"):
        tell(unit_managers(transfer.to_unit), "transfer_in", from_unit=transfer.from_unit.label,
             reason=transfer.reason.value, urgency=transfer.urgency.value, direction=name)
    elif name == "withdraw":
        tell(unit_managers(transfer.to_unit), "transfer_withdrawn", from_unit=transfer.from_unit.label)
    elif name == "return":
        tell([transfer.created_by], "transfer_returned", to_unit=transfer.to_unit.label,
             reason=transfer.decision_note)
    elif name == "receive":
        tell([transfer.created_by], "transfer_accepted", to_unit=transfer.to_unit.label)
        if case.lead_mediator:
            tell(case_people(case), "assigned", unit=case.unit.label)
    elif name in ("assign", "reassign"):
        tell(case_people(case), "assigned", unit=case.unit.label)
    elif name == "delegate":
        delegation = db.session.get(Delegation, changes["delegation"])
        tell(unit_managers(delegation.unit) + _unit_mediators(delegation.unit), "delegated",
             instruction=delegation.instruction, due=delegation.due_date.isoformat(), unit=case.unit.label)
    if name in ("conclude", "refer") and case.outcome is not None and event_row.to_status != event_row.from_status:
        tell(_earlier_people(case), "outcome", outcome=case.outcome.value, unit=case.unit.label)


def _unit_mediators(unit) -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole).where(User.unit_id == unit.id, User.active.is_(True),
                                          UserRole.role == Role.MEDIATOR).distinct().order_by(User.id)))


def _earlier_people(case) -> list[User]:
    """Those who passed the case up or down: the senders and the earlier units' managers."""
    senders = db.session.scalars(select(User).join(Transfer, Transfer.created_by_id == User.id).where(
        Transfer.case_id == case.id, Transfer.status == TransferStatus.ACCEPTED)).all()
    units = db.session.scalars(select(CaseHolding).where(CaseHolding.case_id == case.id,
                                                         CaseHolding.unit_id != case.unit_id)).all()
    people = list(senders)
    for holding in units:
        people += unit_managers(holding.unit)
    return people


@dataclass(frozen=True)
class Message:
    """What a channel is given: a plain copy of the inbox item (the transaction is over)."""

    id: int
    kind: str
    case_id: int | None
    params: dict


def deliver_outbox(items: list[tuple[int, Message]]) -> None:
    """After a commit: hand each new item to the configured channels."""
    paths = current_app.config.get("NOTIFY_CHANNELS") or ()
    if not paths or not items:
        return
    channels = [import_string(p)() for p in paths]
    with Session(db.engine) as session:  # the request's session has just committed
        for user_id, message in items:
            user = session.get(User, user_id)
            for channel in channels:
                try:
                    channel.send(user, message)
                except Exception:  # a failing gateway must not break the user's request
                    log.exception("notification channel %r failed", channel)


# Registered once per process (not per app): every app shares the Session class.
@event.listens_for(Session, "before_commit")
def _before_commit(session):
    pending = session.info.pop("outbox", None)
    if pending:
        session.flush()
        session.info["deliver"] = [(uid, Message(n.id, n.kind, n.case_id, dict(n.params or {})))
                                   for uid, n in pending]


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    items = session.info.pop("deliver", None)
    if items:
        deliver_outbox(items)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    session.info.pop("outbox", None)
    session.info.pop("deliver", None)


# --- things coming due -----------------------------------------------------------------------

def _mine_clause(user):
    return (Case.lead_mediator_id == user.id) | Case.id.in_(
        select(case_co_mediator.c.case_id).where(case_co_mediator.c.user_id == user.id))


def _manages(user):
    """Which held cases the user decides for: a coordinator, its subtree's (True); an admin,
    its own unit's (the whole district would drown the station's inbox); a village mediator,
    its own unit's when it has no coordinator; else none (None). "unit" means the own unit."""
    if Role.COORDINATOR in user.roles:
        return True
    if Role.ADMIN in user.roles or (Role.MEDIATOR in user.roles and access.is_manager_of(user, user.unit)):
        return "unit"
    return None


# Statuses in which something can come due: overdue, planned, settled, escalation advice.
_DUE_STATUSES = WORKING_STATUSES | {CaseStatus.REGISTERED}
_URGENT_STATUSES = (CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION)


def _urgent(case) -> bool:
    return case.status in _URGENT_STATUSES and (
        case.is_major or case.is_mass or case.risk_level in (RiskLevel.ORANGE, RiskLevel.RED))


def sync_due(user) -> int:
    """Add what has come due for this user since the last look; returns how many. A fixed
    number of queries (about seven), whatever the number of cases."""
    if "case.view" not in access.actions_of(user):
        return 0
    today = local_today()
    items: list[tuple] = []  # (kind, case, key, params)
    manages = _manages(user)
    # The user's own cases, and those it decides for that are overdue or urgent: one query.
    wanted = [_mine_clause(user)]
    if manages is not None:
        urgent_clause = Case.status.in_(_URGENT_STATUSES) & (
            Case.is_major.is_(True) | Case.is_mass.is_(True) | Case.risk_level.in_([RiskLevel.ORANGE, RiskLevel.RED]))
        wanted.append(((Case.unit_id == user.unit_id) if manages == "unit" else true())
                      & (overdue_clause() | urgent_clause))
    rows = db.session.execute(access.held_cases_query(user).add_columns(_mine_clause(user).label("mine"))
                              .where(CaseVisibility.status.in_(_DUE_STATUSES), or_(*wanted))).all()
    mine = [c for c, is_mine in rows if is_mine]
    managed = [c for c, _m in rows if manages is not None and (manages is True or c.unit_id == user.unit_id)]
    for case in {c.id: c for c in [*[c for c in mine if _is_overdue(c)], *[c for c in managed if _is_overdue(c)]]
                 }.values():
        items.append(("overdue", case, f"overdue:{case.id}:{case.due_date}", {"due": case.due_date.isoformat()}))
    horizon = today + timedelta(days=current_app.config["INBOX_PLANNED_DAYS"])
    open_mine = [c for c in mine if c.status in (CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION,
                                                  CaseStatus.CONCLUDED, CaseStatus.FOLLOW_UP)]
    # Settled cases: judicial-confirmation deadlines and follow-up visits.
    settled = [c for c in mine if c.status in (CaseStatus.CONCLUDED, CaseStatus.FOLLOW_UP) and c.outcome in SETTLED]
    # Cases the user decides for that should go up at once (major, mass, orange/red), even before assignment.
    mine_or_urgent = list({c.id: c for c in [*mine, *[c for c in managed if _urgent(c)]]}.values())
    # The diary entries that matter (the latest of each open case, the follow-up visits of the
    # settled ones) and the agreements: one query each.
    settled_ids = {c.id for c in settled}
    latest = (select(func.max(DiaryEntry.id)).where(DiaryEntry.case_id.in_([c.id for c in open_mine]))
              .group_by(DiaryEntry.case_id))
    planned = DiaryEntry.id.in_(latest) & (DiaryEntry.next_date >= today) & (DiaryEntry.next_date < horizon)
    entries = db.session.execute(
        select(DiaryEntry, planned.label("planned")).where(
            planned | (DiaryEntry.case_id.in_(settled_ids) & (DiaryEntry.kind == EntryKind.FOLLOW_UP)))
        .order_by(DiaryEntry.id)).all() if open_mine or settled else []
    by_case = {a.case_id: a for a in db.session.scalars(
        select(Agreement).where(Agreement.case_id.in_([c.id for c in mine_or_urgent])))} if mine_or_urgent else {}
    by_id = {c.id: c for c in open_mine}
    visits: dict[int, list] = {}
    for entry, is_planned in entries:
        if entry.kind is EntryKind.FOLLOW_UP and entry.case_id in settled_ids:
            visits.setdefault(entry.case_id, []).append(entry)
        if is_planned:
            items.append(("planned", by_id[entry.case_id], f"planned:{entry.id}:{entry.next_date}",
                          {"date": entry.next_date.isoformat(), "step": entry.next_step[:100]}))
    for case in settled:
        reminder = agreements.confirmation_reminder(case, by_case.get(case.id))
        if reminder and reminder["due"]:
            items.append(("confirmation_due", case, f"confirmation:{case.id}",
                          {"deadline": reminder["deadline"].isoformat()}))
        for slot in agreements.follow_up_plan(case, visits.get(case.id, [])):
            if slot["done"] is None and slot["due"] <= today + timedelta(days=3):
                items.append(("follow_up_due", case, f"follow_up:{case.id}:{slot['due']}",
                              {"due": slot["due"].isoformat(), "days": slot["days"]}))
    sessions = transfers.sessions_per_tier_of([c.id for c in mine_or_urgent])
    for case in mine_or_urgent:
        for advice in transfers.escalation_advice(case, sessions.get(case.id, {}), case.id in by_case):
            items.append(("escalation_advised", case, f"advice:{case.id}:{advice.reason}:{case.unit_id}",
                          {"reason": advice.reason}))
    if access.is_manager_of(user, user.unit):
        # Transfers waiting too long at the user's unit or at a unit right below it.
        late = db.session.execute(select(Transfer, Case).join(OrgUnit, OrgUnit.id == Transfer.to_unit_id)
                                  .join(Case, Case.id == Transfer.case_id).options(contains_eager(Transfer.to_unit))
                                  .where(Transfer.status == TransferStatus.PENDING,
                                         (Transfer.to_unit_id == user.unit_id) | (OrgUnit.parent_id == user.unit_id),
                                         )).all()
        for transfer, case in late:
            if transfers.is_late(transfer):
                items.append(("transfer_late", case, f"late:{transfer.id}",
                              {"to_unit": transfer.to_unit.label,
                               "since": transfer.created_at.isoformat()}))
    if not items:
        return 0
    known = set(db.session.scalars(select(Notification.key).where(
        Notification.user_id == user.id, Notification.key.in_([key for _k, _c, key, _p in items]))))
    added = 0
    for kind, case, key, params in items:
        if key not in known:
            known.add(key)
            added += len(notify([user], kind, case, key=key, checked=True, **params))
    return added


def _is_overdue(case) -> bool:
    return is_overdue(case)


def maybe_sync(user, session: dict) -> None:
    """Sync at most every INBOX_SYNC_SECONDS per browser session; commit it alone."""
    now = epoch_seconds()
    if now - session.get("inbox_synced", 0) < current_app.config["INBOX_SYNC_SECONDS"]:
        return
    session["inbox_synced"] = now
    try:
        if sync_due(user):
            db.session.commit()
    except IntegrityError:  # two tabs syncing at once: the other one added them
        db.session.rollback()


def _in_scope(user):
    """An item about a case the user no longer sees (restricted since, passed on) is not shown
    or counted: the case goes through the one access rule here too."""
    return Notification.case_id.is_(None) | access.sees_case(user, Notification.case_id)


def unread_count(user) -> int:
    """Unread items (counted up to paging.COUNT_BOUND + 1), once per request."""
    cached = g.get("inbox_unread") if has_request_context() else None
    if cached is not None and cached[0] == user.id:
        return cached[1]
    n = bounded_counts([select(Notification.id).where(
        Notification.user_id == user.id, Notification.read_at.is_(None), _in_scope(user))])[0]
    if has_request_context():
        g.inbox_unread = (user.id, n)
    return n


# The inbox, newest first, a page at a time (paging.keyset_page): index ix_notification_user_created.
INBOX_KEY = Key((Notification.created_at, Notification.id), ("datetime", "int"), descending=True)


def inbox_page(user, *, unread_only: bool = False, per_page: int = 50, after: str | None = None,
               before: str | None = None) -> Page:
    stmt = select(Notification).where(Notification.user_id == user.id, _in_scope(user)).options(
        selectinload(Notification.case))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return keyset_page(stmt, INBOX_KEY, lambda n: (n.created_at, n.id), per_page=per_page, after=after,
                       before=before)


def mark_read(n: Notification) -> None:
    if n.read_at is None:
        n.read_at = utcnow()


# --- wiring ----------------------------------------------------------------------------------

def _on_transition(case, *, name: str, event_row, by) -> None:
    after_transition(case, name, event_row, by)


def _on_delegation_done(case, *, delegation) -> None:
    notify([delegation.created_by], "delegation_done", case, unit=delegation.unit.label)


def _anonymise(case) -> None:
    """Retention: an item's details may name people; the item itself stays."""
    db.session.execute(update(Notification).where(Notification.case_id == case.id).values(params={}))


def init_app(app) -> None:
    """Listen to the workflow's steps and to delegated visits; scrub items on retention."""
    workflow.transitioned.connect(_on_transition, weak=False)
    transfers.delegation_done.connect(_on_delegation_done, weak=False)
    anonymiser(_anonymise)
