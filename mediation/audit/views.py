"""The audit-log viewer for station administrators (/audit/)."""
import json
from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from .. import access
from ..access import is_station_admin, require
from ..cases.models import Category, RiskLevel
from ..cases.workflow import TRANSITIONS, CaseStatus, status_label
from ..diary.models import EntryKind
from ..extensions import db
from ..i18n import fmt_date, fmt_datetime, is_chinese
from ..labels import ENTRY_KIND_LABELS, RISK_LABELS, ROLE_LABELS
from ..org.models import OrgUnit
from ..paging import Key, bounded_counts, keyset_page
from ..parsing import db_id, iso_day
from ..timeutil import utc_start_of
from ..users.models import Role
from .models import AuditEvent
from .services import (
    ACTIONS,
    DETAIL_LABELS,
    FILTER_LABELS,
    FILTER_VALUE_LABELS,
    TARGET_TYPES,
    VALUE_LABELS,
)

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50
LOG_KEY = Key((AuditEvent.id,), ("int",), descending=True)


@bp.app_template_filter("audit_items")
def audit_items(details: dict) -> list:
    """The details in a steady order: the labelled ones as listed, then the rest by key."""
    order = {k: i for i, k in enumerate(DETAIL_LABELS)}
    return sorted(details.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))


@bp.app_template_filter("audit_key")
def audit_key(key: str) -> str:
    return str(DETAIL_LABELS.get(key, key))


@bp.app_template_filter("audit_value")
def audit_value(value, key: str = "", action: str = "") -> str:
    """A detail as the viewer shows it: statuses and steps by name, yes/no, an update's
    [old, new] as old → new, lists joined, anything else as JSON (Chinese kept readable)."""
    if key in ("from", "to") and value in {s.value for s in CaseStatus}:
        return status_label(CaseStatus(value))
    if key in ("from", "to", "level") and value in {r.value for r in RiskLevel}:
        return str(RISK_LABELS[RiskLevel(value)])
    if key == "entry_kind" and value in {k.value for k in EntryKind}:
        return str(ENTRY_KIND_LABELS[EntryKind(value)])
    if key == "roles" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "、".join(str(ROLE_LABELS[Role(v)]) if v in {r.value for r in Role} else str(v) for v in value) or "—"
    if key in ("entry_date", "month", "archived_at", "expired_at") and isinstance(value, str) and value[:1].isdigit():
        return _day_or_time(value)
    if key == "transition" and value in TRANSITIONS:
        return str(TRANSITIONS[value].label)
    if key == "field" and value == "id_number":
        return _("ID number")
    if isinstance(value, str) and value in VALUE_LABELS.get(key, {}):
        return str(VALUE_LABELS[key][value])
    if key == "filters" and isinstance(value, dict):
        return "；".join(f"{FILTER_LABELS.get(k, k)}：{_filter_value(k, v)}" for k, v in sorted(
            value.items(), key=lambda kv: list(FILTER_LABELS).index(kv[0]) if kv[0] in FILTER_LABELS else 99)) or "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and len(value) == 2 and action.endswith("_update"):
        return f"{audit_value(value[0], key)} → {audit_value(value[1], key)}"
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return "、".join(str(v) for v in value) or "—"
    return json.dumps(value, ensure_ascii=False)


def _day_or_time(value: str) -> str:
    """An ISO date (2026-12-07), month (2026-12) or time as the viewer shows dates."""
    from datetime import datetime

    try:
        if len(value) == 7:
            month = date.fromisoformat(value + "-01")
            return f"{month.year}年{month.month}月" if is_chinese() else value
        if len(value) == 10:
            return fmt_date(date.fromisoformat(value))
        return fmt_datetime(datetime.fromisoformat(value))
    except ValueError:
        return value


def _filter_value(key: str, value) -> str:
    """A case-list filter's value by name: a status, risk level, unit or category, yes/no."""
    if key == "q" and value is True:
        return _("yes (the text is not kept)")
    if isinstance(value, str) and value in FILTER_VALUE_LABELS.get(key, {}):
        return str(FILTER_VALUE_LABELS[key][value])
    if key == "status" and value in {s.value for s in CaseStatus}:
        return status_label(CaseStatus(value))
    if key == "risk" and value in {r.value for r in RiskLevel}:
        return str(RISK_LABELS[RiskLevel(value)])
    if key == "unit" and value:
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == str(value)))
        return unit.label if unit is not None else str(value)
    if key == "category" and db_id(value) is not None:
        cat = db.session.get(Category, db_id(value))
        return cat.name_zh if cat is not None else str(value)
    if key in ("overdue", "open", "incoming") and value:
        return _("yes")
    return audit_value(value, key)


def unit_names(events) -> dict[str, str]:
    """The names of the units the events are about (one query): "单位 77" means nothing to a reader."""
    ids = {db_id(e.target_id) for e in events if e.target_type == "unit" and db_id(e.target_id) is not None}
    if not ids:
        return {}
    return {str(u.id): u.label for u in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}


@bp.route("/")
@require("audit.view")
def index():
    if not is_station_admin(current_user):
        abort(403)
    args = request.args
    action = args.get("action", "")
    user = (args.get("user") or "").strip()[:64]
    target_type = args.get("target_type", "")
    target_id = (args.get("target_id") or "").strip()[:64]
    start, end = iso_day(args.get("from")), iso_day(args.get("to"))
    # A range that cannot match is said so, not shown as an empty log.
    problems = [_("“%(value)s” is not a day from 1900 to 2999 written year-month-day; that limit was "
                  "left out.", value=args[key][:40])
                for key, day in (("from", start), ("to", end)) if args.get(key) and day is None]
    if start and end and start > end:
        problems.append(_("The from date is after the to date, so no event can match."))
    stmt = access.audit_query(current_user)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if user:
        conditions = [AuditEvent.actor_name.icontains(user, autoescape=True)]  # % and _ are letters here
        if db_id(user) is not None:
            conditions.append(AuditEvent.actor_id == db_id(user))
        stmt = stmt.where(or_(*conditions))
    if target_type:
        stmt = stmt.where(AuditEvent.target_type == target_type)
    if target_id:
        stmt = stmt.where(AuditEvent.target_id == target_id)
    if start:
        stmt = stmt.where(AuditEvent.at >= utc_start_of(start))
    if end:
        stmt = stmt.where(AuditEvent.at < utc_start_of(end + timedelta(days=1)))
    # Newest first by position in the chain, a page at a time after a cursor, with a bounded
    # count: a province's log holds millions of events.
    page = keyset_page(stmt, LOG_KEY, lambda e: (e.id,), per_page=PER_PAGE,
                       after=args.get("after"), before=args.get("before"))
    total = bounded_counts([stmt])[0]
    filters = {"action": action, "user": user, "target_type": target_type, "target_id": target_id,
               "from": args.get("from", "") if start else "", "to": args.get("to", "") if end else ""}
    return render_template("audit/index.html", page=page, total=total, filters=filters, actions=ACTIONS,
                           problems=problems,
                           target_types=TARGET_TYPES, unit_names=unit_names(page.items))
