"""What needs whom. Two sources fill the inbox: events (a case arrives, is returned,
assigned, settled...) through ``notify``, and things coming due (overdue cases,
planned sessions, follow-ups, judicial-confirmation deadlines, late transfers,
escalation advice) found by ``sync_due``. Delivery beyond the inbox goes through
the channels in ``NOTIFY_CHANNELS`` (one interface: ``send(user, notification)``),
after the transaction commits; none is configured by default. ``init_app`` connects the
inbox to the workflow's steps and to delegated visits."""
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, g, has_request_context
from sqlalchemy import and_, event, false, func, not_, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload
from werkzeug.utils import import_string

from .. import access
from ..agreements import services as agreements
from ..agreements.models import Agreement, Confirmation
from ..cases import workflow
from ..cases.models import OPEN_STATUSES, SETTLED, Case, CaseStatus, CaseVisibility, RiskLevel, case_co_mediator
from ..cases.services import WORKING_STATUSES, is_overdue, overdue_clause
from ..diary import services as diary
from ..diary.models import DiaryEntry, EntryKind
from ..extensions import db
from ..i18n import clip
from ..leads import services as leads
from ..leads.models import LeadStatus
from ..leads.models import Urgency as LeadUrgency
from ..org.models import OrgUnit
from ..paging import Key, Page, bounded_counts, keyset_page
from ..retention.services import anonymiser
from ..timeutil import epoch_seconds, local_date_of, local_today, utc_start_of, utcnow
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

def notify(users, kind: str, case=None, *, key: str | None = None, checked: bool = False, priority: int = 0,
           **params) -> list[Notification]:
    """Put one item in each user's inbox (once per ``key``) and queue its delivery
    (``checked``: the caller knows the key is new for these users). ``priority`` 1 (urgent)
    or 2 (emergency): unread, it stands at the top of the inbox, marked."""
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
                         params=params, priority=priority)
        db.session.add(n)
        out.append(n)
        db.session.info.setdefault("outbox", []).append((user.id, n))
    return out


# --- done: items leave the open list on their own ---------------------------------------------

# What each workflow step settles on its case, for everyone: ALL on a case closed, archived or
# declined; the waiting transfer once it is decided; the escalation advice once acted on.
ALL = "*"
SETTLED_BY_STEP: dict[str, tuple[str, ...]] = {
    "close": (ALL,), "archive": (ALL,), "decline": (ALL,),
    "receive": ("transfer_in", "transfer_late"), "return": ("transfer_in", "transfer_late"),
    "withdraw": ("transfer_in", "transfer_late"),
    "escalate": ("escalation_advised",), "end_for_safety": ("escalation_advised",),
}


STEP_SHOWN = 100  # characters of a planned step an inbox item says


def settle(*where, by) -> None:
    """Mark the items ``where`` selects done (and read), by ``by`` (None: the system), now."""
    now = utcnow()
    db.session.execute(
        update(Notification).where(Notification.done_at.is_(None), *where)
        .values(done_at=now, done_by_id=by.id if by is not None else None,
                read_at=func.coalesce(Notification.read_at, now))
        .execution_options(synchronize_session=False))


def settle_case(case, kinds, *, by) -> None:
    """Items of these kinds (``ALL``: every kind) on the case."""
    where = [Notification.case_id == case.id]
    if ALL not in kinds:
        where.append(Notification.kind.in_(kinds))
    settle(*where, by=by)


def settle_after_step(case, name: str, by) -> None:
    """What a workflow step has dealt with (``SETTLED_BY_STEP``), and what the case's new
    status makes moot: the overdue notice once the mediation clock stops; the advice to
    escalate for safety once the case is referred out (police, court, shelter...)."""
    kinds = list(SETTLED_BY_STEP.get(name, ()))
    if case.status not in OPEN_STATUSES and case.status is not CaseStatus.PENDING:  # sent on: it may come back
        kinds.append("overdue")
    if kinds:
        settle_case(case, kinds, by=by)
    if name == "refer":
        settle(Notification.case_id == case.id, Notification.key.startswith(f"advice:{case.id}:risk:"), by=by)


def after_transition(case, name: str, event_row, by) -> None:
    """Tell the people a workflow step concerns (on ``workflow.transitioned``)."""
    key = f"{name}:{event_row.id}"
    changes = event_row.changes or {}
    transfer = db.session.get(Transfer, changes["transfer"]) if "transfer" in changes else None
    others = [] if by is None else [by.id]

    def tell(users, kind, **params):
        notify([u for u in users if u.id not in others], kind, case, key=key, **params)

    settle_after_step(case, name, by)
    if name in ("close", "archive", "decline"):
        return  # nothing more to do on it: nobody is asked for anything
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
    elif name == "reopen":
        tell(case_people(case), "reopened", by=by.display_name if by is not None else "",
             reason=clip(event_row.note or "", 200), due=case.due_date.isoformat() if case.due_date else None)
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
    priority: int = 0  # 2: an emergency (a gateway may text it at once)


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
        session.info["deliver"] = [(uid, Message(n.id, n.kind, n.case_id, dict(n.params or {}), n.priority or 0))
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


def _since(user, today: date) -> tuple[date | None, datetime]:
    """Where a look starts. For what changed (a case, a diary entry, an agreement):
    INBOX_SYNC_MARGIN_SECONDS before the last look (a transaction still open then). For what
    falls due on a day (overdue, a planned session, a follow-up visit, a reminder): the day
    before the last look's (a margin for the turn of the day), or None when the last look was
    today (nothing has fallen due on a day since). Never more than INBOX_SYNC_LOOKBACK_DAYS
    back (a first look, or one after an absence)."""
    config = current_app.config
    floor = today - timedelta(days=config["INBOX_SYNC_LOOKBACK_DAYS"])
    last = user.inbox_synced_at
    if last is None:
        return floor, utc_start_of(floor)
    since_at = max(utc_start_of(floor), last - timedelta(seconds=config["INBOX_SYNC_MARGIN_SECONDS"]))
    last_day = local_date_of(last)
    return (None if last_day == today else max(floor, min(last_day, today) - timedelta(days=1))), since_at


def _may_come_due(user, today: date, since: date | None, since_at: datetime, manages):
    """The held cases on which something may have come due since the last look (``_since``):
    changed since (a new holder, a flag, a risk level) and overdue or flagged; a session
    written or edited since (advice after attempts); a plan whose entry was written or edited
    since; a reminder on an agreement changed since; anything due on a case changed since (a
    case handed over); and, on a new day, what fell due on a day since ``since``: overdue, a
    planned session entering the horizon, a follow-up slot or confirmation reminder coming
    into view. Each test is on the case's own row or an index, so that a look reads what came
    due since the last one, not the person's whole caseload nor all that is due."""
    config = current_app.config
    day = timedelta(days=1)
    touched = Case.updated_at >= since_at
    flagged = Case.is_major.is_(True) | Case.is_mass.is_(True) | Case.risk_level.in_([RiskLevel.ORANGE,
                                                                                      RiskLevel.RED])
    sessions = (select(DiaryEntry.id).where(DiaryEntry.case_id == Case.id, DiaryEntry.kind == EntryKind.SESSION,
                                            (DiaryEntry.created_at >= since_at) | (DiaryEntry.updated_at >= since_at))
                .exists())  # written since, or edited since (a call that was a session)
    changed = (touched & (overdue_clause() | flagged)) | sessions
    planned_days = config["INBOX_PLANNED_DAYS"]
    in_horizon = (DiaryEntry.case_id == Case.id, DiaryEntry.next_date >= today,
                  DiaryEntry.next_date < today + timedelta(days=planned_days))
    planned_when = [DiaryEntry.created_at >= since_at, DiaryEntry.updated_at >= since_at]
    if since is not None:  # the last look's horizon ended at since + 1 + planned_days: a day's margin
        planned_when.append(DiaryEntry.next_date >= since + timedelta(days=planned_days))
    planned = select(DiaryEntry.id).where(*in_horizon, or_(*planned_when)).exists()
    planned_any = select(DiaryEntry.id).where(*in_horizon).exists()

    # A follow-up slot falls ``days`` after settlement and is shown 3 days ahead: in view
    # since the last look, or (a case changed since) in view now and not long past.
    def slots(start: date) -> list:
        return [Case.concluded_at.between(datetime.combine(start - timedelta(days=days) - day, time()),
                                          datetime.combine(today + timedelta(days=3 - days) + day, time()))
                for days in config["FOLLOW_UP_PLAN_DAYS"]]
    confirm_days = config["JUDICIAL_CONFIRMATION_DAYS"]
    remind_from = confirm_days - config["JUDICIAL_CONFIRMATION_REMIND_DAYS"]
    # A reminder that came into view since, or one on an agreement changed since (its
    # confirmation set back to "not applied"), or on a case changed since.
    reminder_when = [Agreement.updated_at >= since_at, touched]
    if since is not None:
        reminder_when.append(Agreement.reached_on >= since - timedelta(days=remind_from))
    confirmation = select(Agreement.id).where(
        Agreement.case_id == Case.id, Agreement.confirmation == Confirmation.NOT_APPLIED,
        Agreement.reached_on.between(today - timedelta(days=confirm_days), today - timedelta(days=remind_from)),
        or_(*reminder_when)).exists()
    settled_when = [confirmation, touched & or_(*slots(since or today - day))]
    if since is not None:
        settled_when += slots(since + timedelta(days=3))
    settled = Case.status.in_((CaseStatus.CONCLUDED, CaseStatus.FOLLOW_UP)) & or_(*settled_when)
    overdue = overdue_clause() & (Case.due_date >= since - day) if since is not None else false()
    wanted = [_mine_clause(user) & or_(overdue, changed, planned, touched & planned_any, settled)]
    if manages is not None:
        urgent = Case.status.in_(_URGENT_STATUSES) & flagged
        wanted.append(((Case.unit_id == user.unit_id) if manages == "unit" else true())
                      & (overdue | (urgent & changed)))
    return or_(*wanted)


SYNC_BATCH = 500  # cases a look holds at once: a first look after an absence may read thousands


def sync_due(user) -> int:
    """Add what has come due for this user since the last look; returns how many. Rows in
    proportion to what came due since the last look (``_may_come_due``), whatever the size of
    the person's caseload, read SYNC_BATCH cases at a time (a fixed number of queries, about
    seven, for each), so that a long first look does not hold them all in the worker."""
    if "case.view" not in access.actions_of(user):
        return 0
    today = local_today()
    since, since_at = _since(user, today)
    manages = _manages(user)
    result = db.session.execute(
        access.held_cases_query(user).add_columns(_mine_clause(user).label("mine"))
        .where(CaseVisibility.status.in_(_DUE_STATUSES), _may_come_due(user, today, since, since_at, manages))
        .options(selectinload(Case.category), selectinload(Case.unit)).execution_options(yield_per=SYNC_BATCH))
    added = 0
    for rows in result.partitions():
        added += _add_items(user, _items_of(user, rows, today, manages))
    items: list[tuple] = []
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
    user.inbox_synced_at = utcnow()  # written with what it found, or not at all
    return added + _add_items(user, items)


def _items_of(user, rows, today: date, manages) -> list[tuple]:
    """The items due on these held cases ((case, is one of the user's own) rows):
    (kind, case, key, params)."""
    items: list[tuple] = []
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
                          {"date": entry.next_date.isoformat(), "step": _step_shown(entry)}))
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
    return items


def _add_items(user, items: list[tuple]) -> int:
    """Put in the user's inbox those of ``items`` it does not hold yet (by key)."""
    if not items:
        return 0
    known = set(db.session.scalars(select(Notification.key).where(
        Notification.user_id == user.id, Notification.key.in_([key for _k, _c, key, _p in items]))))
    added = 0
    for kind, case, key, params in items:
        if key not in known:
            known.add(key)
            added += len(notify([user], kind, case, key=key, checked=True, **params))
    db.session.flush()  # the batch's cases can go
    return added


def _is_overdue(case) -> bool:
    return is_overdue(case)


def maybe_sync(user, session: dict) -> None:
    """Sync at most every INBOX_SYNC_SECONDS per browser session; commit it alone."""
    now = epoch_seconds()
    if now - session.get("inbox_synced", 0) < current_app.config["INBOX_SYNC_SECONDS"]:
        return
    session["inbox_synced"] = now
    session_ = db.session()
    expire = session_.expire_on_commit
    try:
        sync_due(user)
        # Mid-page (the layout asks for the unread count): keep what the page has loaded,
        # rather than reading it all again after the commit.
        session_.expire_on_commit = False
        session_.commit()
    except IntegrityError:  # two tabs syncing at once: the other one added them
        session_.rollback()
    finally:
        session_.expire_on_commit = expire


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
        selectinload(Notification.case), joinedload(Notification.done_by))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    stmt = stmt.where(not_(_pinned))  # those stand above the pages (``pinned_of``)
    return keyset_page(stmt, INBOX_KEY, lambda n: (n.created_at, n.id), per_page=per_page, after=after,
                       before=before)


# Unread urgent and emergency items: above the pages, most pressing first.
_pinned = and_(Notification.read_at.is_(None), Notification.priority > 0)
PINNED_MAX = 50


def pinned_of(user) -> list[Notification]:
    """The unread urgent and emergency items (at most ``PINNED_MAX``), which stand at the top."""
    stmt = select(Notification).where(Notification.user_id == user.id, _in_scope(user), _pinned).options(
        selectinload(Notification.case), joinedload(Notification.done_by))
    return list(db.session.scalars(stmt.order_by(Notification.priority.desc(), Notification.created_at.desc(),
                                                 Notification.id.desc()).limit(PINNED_MAX)))


def inbox_of(user, *, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    """What the inbox's first page shows: the pinned items, then the newest."""
    return (pinned_of(user) + inbox_page(user, unread_only=unread_only, per_page=limit).items)[:limit]


def mark_read(n: Notification) -> None:
    if n.read_at is None:
        n.read_at = utcnow()


# --- wiring ----------------------------------------------------------------------------------

def _on_transition(case, *, name: str, event_row, by) -> None:
    after_transition(case, name, event_row, by)


def _on_delegation_done(case, *, delegation, by=None) -> None:
    notify([delegation.created_by], "delegation_done", case, unit=delegation.unit.label)
    # The visit asked of the unit is done: its people's "delegated" items on the case.
    settle(Notification.case_id == case.id, Notification.kind == "delegated",
           Notification.user_id.in_(select(User.id).where(User.unit_id == delegation.unit_id)),
           by=by or db.session.get(User, delegation.created_by_id))


def _on_entry_written(case, *, entry, by) -> None:
    """A diary entry takes up the plan of the one before it (the inbox plans from the latest
    entry); a follow-up visit does the visit that was due."""
    kinds = ["planned"] + (["follow_up_due"] if entry.kind is EntryKind.FOLLOW_UP else [])
    settle(Notification.case_id == case.id, Notification.kind.in_(kinds),
           Notification.key.not_like(f"planned:{entry.id}:%"), by=by)


def _step_shown(entry) -> str:
    """The planned step as an item says it. Not a confidential entry's: an item outlives the
    reader's place on the case and may go out by a channel (SMS); it then says "next session"."""
    return "" if entry.confidential else clip(entry.next_step or "", STEP_SHOWN)


def _on_entry_edited(case, *, entry, by) -> None:
    """An edited plan: the items of the plan as it was are done; those of the plan as it is now
    (the same day, or a day planned before and planned again) are open and say the step as it
    is now. An item for a new day comes with the next look (``sync_due``)."""
    key = f"planned:{entry.id}:{entry.next_date}"
    settle(Notification.case_id == case.id, Notification.kind == "planned",
           Notification.key.like(f"planned:{entry.id}:%"), Notification.key != key, by=by)
    later = db.session.scalar(select(DiaryEntry.id).where(DiaryEntry.case_id == case.id, DiaryEntry.id > entry.id)
                              .limit(1))
    if entry.next_date is not None and later is None:  # a later entry's plan stands instead
        db.session.execute(
            update(Notification).where(Notification.case_id == case.id, Notification.key == key)
            .values(params={"date": entry.next_date.isoformat(), "step": _step_shown(entry)},
                    done_at=None, done_by_id=None, read_at=None)
            .execution_options(synchronize_session=False))


def _on_confirmation(case, *, agreement, by) -> None:
    if agreement.confirmation is not Confirmation.NOT_APPLIED:
        settle_case(case, ("confirmation_due",), by=by)


# --- leads: an urgent one reaches people now ------------------------------------------------

LEAD_PRIORITY = {LeadUrgency.URGENT: 1, LeadUrgency.EMERGENCY: 2}


def _coordinators(unit) -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole).where(User.unit_id == unit.id, User.active.is_(True),
                                          UserRole.role == Role.COORDINATOR).distinct().order_by(User.id)))


def lead_recipients(lead) -> list[User]:
    """Who decides on a lead: the mediators and coordinators of its unit (a village) and the
    coordinators of the nearest unit above it that has any (its town)."""
    people = _unit_mediators(lead.unit) + _coordinators(lead.unit)
    unit = lead.unit.parent
    while unit is not None:
        above = _coordinators(unit)
        if above:
            people += above
            break
        unit = unit.parent
    return list({u.id: u for u in people}.values())


def _on_lead_reported(lead, *, by) -> None:
    """Urgent and emergency leads go at once to the inbox (and the channels) of those who decide."""
    priority = LEAD_PRIORITY.get(lead.urgency)
    if priority is None:
        return
    notify([u for u in lead_recipients(lead) if u.id != by.id], "lead_new", key=f"lead:{lead.id}",
           priority=priority, lead=lead.id, urgency=lead.urgency.value, unit=lead.unit.label,
           reporter=lead.reporter.display_name)


def _on_lead_handled(lead, *, by) -> None:
    """The lead is decided: the others' items about it are done; the grid worker hears what became of it."""
    settle(Notification.kind == "lead_new", Notification.key == f"lead:{lead.id}", by=by)
    if lead.status is LeadStatus.CONVERTED:
        # Neither the case nor its number: the grid worker does not see cases (and the case may
        # be restricted); the item leads to the lead, which shows what the worker may know.
        # Which lead by the day it was reported, not by whom it was about: the item is never anonymised.
        notify([lead.reporter], "lead_registered", key=f"lead_done:{lead.id}", lead=lead.id, by=by.display_name,
               reported=local_date_of(lead.created_at).isoformat())
    else:
        notify([lead.reporter], "lead_dismissed", key=f"lead_done:{lead.id}", lead=lead.id,
               reason=clip(lead.dismiss_reason, 200), by=by.display_name,
               reported=local_date_of(lead.created_at).isoformat())


def _anonymise(case) -> None:
    """Retention: an item's details may name people; the item itself stays."""
    db.session.execute(update(Notification).where(Notification.case_id == case.id).values(params={}))


def init_app(app) -> None:
    """Listen to the workflow's steps and to delegated visits; scrub items on retention."""
    workflow.transitioned.connect(_on_transition, weak=False)
    transfers.delegation_done.connect(_on_delegation_done, weak=False)
    diary.entry_written.connect(_on_entry_written, weak=False)
    diary.entry_edited.connect(_on_entry_edited, weak=False)
    agreements.confirmation_changed.connect(_on_confirmation, weak=False)
    leads.reported.connect(_on_lead_reported, weak=False)
    leads.handled.connect(_on_lead_handled, weak=False)
    anonymiser(_anonymise)
