"""Recording audit events, chaining them, and verifying the chain.

``record()`` only queues the event on the session. When the session commits, a
``before_commit`` hook takes the chain head (an UPDATE of its one row, so a second
writer, in this process or on another server, waits until this transaction ends),
numbers and hashes the queued events and inserts them, all in the committing
transaction. The lock is held only from that moment to the commit, and the holder
never waits for another row, so appends cannot deadlock with case work. A rollback
drops the queue with everything else.
"""
import decimal
import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from flask import g, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..timeutil import utcnow
from .models import GENESIS_HASH, AuditChainHead, AuditEvent

_PENDING = "audit_pending"

# Every action with its label (the viewer's filter lists them). Add yours here.
ACTIONS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "logout": _l("Logged out"),
    "password_change": _l("Changed own password"),
    "password_change_failed": _l("Wrong current password on changing it"),
    "reveal": _l("Full ID number shown"),
    "reveal_contacts": _l("Protected address and phone shown (delegated visit)"),
    "print": _l("Printed"),
    "export": _l("Exported"),
    "case.transition": _l("Case step"),
    "case.open_restricted": _l("Restricted case opened"),
    "case.create": _l("Case registered"),
    "case.risk": _l("Risk level changed"),
    "case.legal_hold": _l("Legal hold changed"),
    "admin.restricted_named": _l("Named on a restricted case (command line)"),
    "admin.user_create": _l("Account created"),
    "admin.user_update": _l("Account changed"),
    "admin.user_active": _l("Account activated or deactivated"),
    "admin.user_reset": _l("Password reset"),
    "admin.unit_create": _l("Unit added"),
    "admin.unit_update": _l("Unit changed"),
    "admin.category_create": _l("Category added"),
    "admin.category_update": _l("Category changed"),
    "retention.anonymise": _l("Case anonymised (retention)"),
    "keys.reencrypt": _l("ID numbers re-encrypted"),
    "api.token_create": _l("API token created"),
    "api.token_revoke": _l("API token revoked"),
    "api.token_refused": _l("API token refused"),
    "api.write": _l("Changed through the API"),
    "api.import": _l("Case imported through the API"),
}
API_TOKEN_KEY = "api_token_name"  # flask.g: the name of the token of an API request

# Target kinds by model class name; anything else is named by its table.
_TARGET_TYPES = {
    "Case": "case", "Party": "party", "User": "user", "OrgUnit": "unit", "Category": "category",
    "DiaryEntry": "diary_entry", "Agreement": "agreement", "Attachment": "attachment", "Lead": "lead",
}
# How the viewer names the usual details (others show their key).
DETAIL_LABELS = {
    "number": _l("Case number"), "transition": _l("Step"), "from": _l("From status"), "to": _l("To status"),
    "field": _l("Field"), "reason": _l("Reason"), "document": _l("Printed document"), "username": _l("Username"),
    "display_name": _l("Full name"), "name_zh": _l("Chinese name"), "name_en": _l("English name"),
    "sort_order": _l("Order"),
    "unit": _l("Unit"), "roles": _l("Roles"), "active": _l("Active"), "hold": _l("Legal hold"),
    "name": _l("Name"), "code": _l("Code"), "parent": _l("Parent unit"), "retention_years": _l("Retention (years)"),
    "format": _l("Format"), "count": _l("Count"), "minutes": _l("Minutes"), "case": _l("Case"), "phone": _l("Phone"),
    # Exports (search/export.py: the case list; stats/views.py: the monthly report).
    "what": _l("Exported"), "list": _l("List"), "month": _l("Month"), "suppress": _l("Counts under 3 suppressed"),
    "filters": _l("Filters"), "delegation": _l("Delegated visit"),
    # Prints (printing/views.py: record_print).
    "confidential_included": _l("Confidential entries included"), "scope": _l("Whose entries"),
    "entry": _l("Diary entry no."), "entry_date": _l("Diary entry of"), "entry_kind": _l("Kind of entry"),
    "entries": _l("Diary entries"),
    # Retention, keys.
    "archived_at": _l("Archived on"), "expired_at": _l("Retention ended on"), "parties": _l("Parties"),
    "diary_entries": _l("Diary entries"), "files_deleted": _l("Files deleted"), "drafts": _l("Drafts"),
    "new_key": _l("New encryption key"), "new_hash_key": _l("New hash key"),
    "api_token": _l("API token"), "method": _l("Method"), "path": _l("Path"), "source_system": _l("Source"),
    "named": _l("Person named"), "named_users": _l("People named"), "via": _l("Done through"),
}
# How the viewer names some details' values (key -> value -> label).
VALUE_LABELS = {
    "what": {"monthly_report": _l("Monthly report")},
    "list": {"cases": _l("Case list")},
    "format": {"pdf": "PDF", "xlsx": "Excel (XLSX)", "csv": "CSV"},
    "document": {"diary": _l("Mediation diary"), "session_record": _l("Record of a diary entry"),
                 "agreement": _l("Agreement"), "case_file": _l("Case file"),
                 "intake": _l("Intake register and notice of rights"), "diary_book": _l("Diary book")},
    "scope": {"me": _l("My entries"), "unit": _l("My unit's entries")},
    "reason": {"idle": _l("idle too long"), "expired": _l("session expired"), "throttled": _l("too many attempts"),
               "screening": _l("safety screening"), "unknown_user": _l("no such user"),
               "inactive": _l("account inactive"), "wrong_password": _l("wrong password"),
               "unknown": _l("unknown token"), "revoked": _l("token revoked")},
    "field": {"id_number": _l("ID number"), "contacts": _l("Address and phone")},
    "via": {"command line": _l("the command line")},
    "phone": {"given": _l("given"), "none": _l("none"), "changed": _l("changed")},
}
# The case list's filters, as an export records them (cases/views.py: filtered_cases).
FILTER_LABELS = {
    "view": _l("Scope"), "unit": _l("Unit"), "category": _l("Category"), "risk": _l("Risk level"),
    "from": _l("From date"), "to": _l("To date"), "overdue": _l("Overdue"), "open": _l("Open cases"),
    "incoming": _l("Waiting for my unit"), "q": _l("Search text"), "status": _l("Status"), "sort": _l("Order"),
    "format": _l("Format"),
}
FILTER_VALUE_LABELS = {
    "view": {"subtree": _l("All cases I may see"), "mine": _l("My cases"), "unit": _l("My unit's cases")},
    "sort": {"newest": _l("Newest first"), "oldest": _l("Oldest first"), "number": _l("By case number"),
             "due": _l("By due date")},
}
TARGET_TYPES = {
    "case": _l("Case"), "party": _l("Party"), "user": _l("Account"), "unit": _l("Unit"),
    "category": _l("Category"), "api_token": _l("API token"),
}


# --- recording -------------------------------------------------------------------

def record(action: str, *, target=None, details: dict | None = None, actor=None,
           actor_name: str | None = None) -> None:
    """Queue an audit event; it is chained and written when the session commits.

    :param action: a key of ``ACTIONS`` (e.g. ``"reveal"``, ``"case.transition"``).
    :param target: the object acted on (a model instance; its id may still be unset),
        or a ``(type, id)`` pair.
    :param details: JSON-able facts (no ID numbers, phones or addresses: the log is never
        anonymised). Dates, enums and decimals are turned into strings.
    :param actor: who acted; by default the logged-in user, else nobody (the system, a command).
    :param actor_name: the name to keep when there is no account (e.g. a failed login's username).
    """
    if actor is None and has_request_context():
        from flask_login import current_user

        if getattr(current_user, "is_authenticated", False):
            actor = current_user._get_current_object()
    if has_request_context() and g.get(API_TOKEN_KEY):
        # Done with an API token: the log names the token as well as its account.
        details = {**(details or {}), "api_token": g.get(API_TOKEN_KEY)}
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still drops the event
    session.info.setdefault(_PENDING, []).append({
        "action": action,
        "target": target,
        "details": details or {},
        "actor_id": getattr(actor, "id", None),
        "actor_name": actor_name if actor_name is not None else getattr(actor, "username", "") or "",
        "actor_unit_id": getattr(actor, "unit_id", None),
        "ip": (request.remote_addr or "") if has_request_context() else "",
    })


def last_change(target, actions: tuple[str, ...]) -> AuditEvent | None:
    """The latest of ``actions`` on ``target``: who changed a record last, and when (for the
    message that refuses a save made from an older form)."""
    kind, ident = _target_of(target)
    return db.session.scalar(select(AuditEvent).where(
        AuditEvent.target_type == kind, AuditEvent.target_id == ident, AuditEvent.action.in_(actions))
        .order_by(AuditEvent.id.desc()).limit(1))


def _target_of(target) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        kind, ident = target
        return str(kind), "" if ident is None else str(ident)
    # current_user is a proxy: named by the account behind it ("user"), not by its table.
    target = target._get_current_object() if hasattr(target, "_get_current_object") else target
    kind = _TARGET_TYPES.get(type(target).__name__) or getattr(target, "__tablename__", type(target).__name__)
    ident = getattr(target, "id", None)
    return kind, "" if ident is None else str(ident)


def _clean(text, limit: int) -> str:
    return str(text or "").replace("\x00", "")[:limit]


def jsonable(value):
    """``value`` as plain JSON types, the same before and after a trip through the database."""
    if isinstance(value, dict):
        return {_clean(k, 200): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return _clean(value, 10_000)


def canonical(row: dict) -> bytes:
    """The bytes that are hashed: every field but ``hash``, as sorted compact JSON. The
    actor's unit only when kept, so that events written before it was kept hash as they did."""
    at = row["at"]
    data = {
        "id": int(row["id"]),
        "at": at.isoformat(timespec="microseconds") if isinstance(at, datetime) else str(at),
        "actor_id": row["actor_id"],
        "actor_name": row["actor_name"] or "",
        "ip": row["ip"] or "",
        "action": row["action"],
        "target_type": row["target_type"] or "",
        "target_id": row["target_id"] or "",
        "details": row["details"] if row["details"] is not None else {},
        "prev_hash": row["prev_hash"],
    }
    unit = row.get("actor_unit_id")
    if unit is not None:  # as stored: 77.9 or "77x" written by hand must not hash as 77
        data["actor_unit_id"] = unit if isinstance(unit, int) and not isinstance(unit, bool) else str(unit)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def hash_of(row: dict) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def _append(session: Session, pending: list[dict]) -> None:
    head = AuditChainHead.__table__
    conn = session.connection()
    n = len(pending)
    # Write first: this takes the lock (PostgreSQL row lock, SQLite write lock) before reading.
    # RETURNING reads the new head in the same statement (SQLite 3.35+, PostgreSQL).
    bump = update(head).where(head.c.id == 1).values(last_id=head.c.last_id + n).returning(
        head.c.last_id, head.c.last_hash)
    found = conn.execute(bump).first()
    if found is None:  # a database made without the head row
        conn.execute(insert(head).values(id=1, last_id=0, last_hash=GENESIS_HASH))
        found = conn.execute(bump).first()
    last_id, prev = found
    now = utcnow()
    rows = []
    for position, ev in enumerate(pending, start=last_id - n + 1):
        target_type, target_id = _target_of(ev["target"])
        row = {
            "id": position, "at": now, "actor_id": ev["actor_id"], "actor_unit_id": ev["actor_unit_id"],
            "actor_name": _clean(ev["actor_name"], 64), "ip": _clean(ev["ip"], 64),
            "action": _clean(ev["action"], 64), "target_type": _clean(target_type, 32),
            "target_id": _clean(target_id, 64), "details": jsonable(ev["details"]), "prev_hash": prev,
        }
        row["hash"] = prev = hash_of(row)
        rows.append(row)
    conn.execute(insert(AuditEvent.__table__), rows)
    conn.execute(update(head).where(head.c.id == 1).values(last_hash=prev))


@event.listens_for(Session, "before_commit")
def _seal(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.flush()  # new targets get their ids
        _append(session, pending)


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


# --- verifying --------------------------------------------------------------------

@dataclass
class Verification:
    ok: bool
    count: int
    bad_id: int | None = None
    problem: str = ""
    head_hash: str = GENESIS_HASH


def verify(batch: int = 2000) -> Verification:
    """Walk the chain in order: every id follows the one before, every ``prev_hash`` is the
    hash of the row before, every ``hash`` matches its row, and the last row is the one the
    chain head recorded. Reports the first row where one of these fails."""
    table = AuditEvent.__table__
    head = db.session.execute(
        select(AuditChainHead.last_id, AuditChainHead.last_hash).where(AuditChainHead.id == 1)
    ).first()
    head_id, head_hash = (head.last_id, head.last_hash) if head else (0, GENESIS_HASH)
    expected, prev, count = 1, GENESIS_HASH, 0

    def bad(row_id: int, problem: str) -> Verification:
        return Verification(False, count, row_id, problem, head_hash)

    after = None
    while True:
        stmt = select(table).order_by(table.c.id).limit(batch)
        if after is not None:
            stmt = stmt.where(table.c.id > after)
        rows = db.session.execute(stmt).mappings().all()
        if not rows:
            break
        for row in rows:
            if row["id"] > expected:
                return bad(expected, _("Event %(id)d is missing: it was deleted.", id=expected))
            if row["id"] < expected:
                return bad(row["id"], _("Event %(id)d is out of place: it was inserted.", id=row["id"]))
            if row["prev_hash"] != prev:
                return bad(row["id"], _("Event %(id)d does not follow the event before it: an event was "
                                        "changed, inserted or deleted.", id=row["id"]))
            if hash_of(dict(row)) != row["hash"]:
                return bad(row["id"], _("Event %(id)d was changed after it was written.", id=row["id"]))
            prev = row["hash"]
            expected += 1
            count += 1
        after = rows[-1]["id"]
    last = expected - 1
    if head_id > last:
        return bad(last + 1, _("Event %(id)d is missing: the events from it to %(last)d were deleted.",
                               id=last + 1, last=head_id))
    if head_id < last:
        return bad(head_id + 1, _("Event %(id)d was inserted outside the audit log.", id=head_id + 1))
    if head_hash != prev:
        return bad(last or None, _("Event %(id)d is not the last event that was written.", id=last))
    return Verification(True, count, head_hash=head_hash)
