"""Events out: the outbox of case events and their delivery to webhooks.

Each case event (registered, accepted, escalated, received, concluded, closed, a referral's
result, ...) is written to ``api_outbox_event`` by a listener of the case services and the
workflow, so in the same transaction as the change: a rolled-back change leaves no event.
``deliver()`` (``flask --app mediation api deliver``, run from cron or a timer) posts them to
the subscriptions configured in ``API_WEBHOOKS``, each tied to an account whose access bounds
what it receives, signed with HMAC-SHA256; a failure is retried with a growing delay, and a
case's later events wait until its earlier ones are delivered (at least once, in order per
case). Nothing personal is sent: statuses, unit codes, outcome and the case's number and id,
which the subscriber's own token can read (and then fetch the rest with it)."""
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from .. import access
from ..cases import services as case_services
from ..cases import workflow
from ..cases.models import Case
from ..extensions import db
from ..org.models import OrgUnit
from ..timeutil import epoch_seconds, utcnow
from ..users.models import User
from .models import OutboxEvent, WebhookDelivery

log = logging.getLogger(__name__)

# Workflow steps that make an event, and its name.
STEP_EVENTS = {
    "accept": "accepted", "decline": "declined", "escalate": "escalated", "hand_down": "handed_down",
    "receive": "received", "return": "returned", "withdraw": "withdrawn", "conclude": "concluded",
    "end_for_safety": "concluded", "close": "closed", "reopen": "reopened", "archive": "archived",
    "refer": "referred", "referral_result": "referral_result",
}
EVENT_KINDS = ("registered", *sorted(set(STEP_EVENTS.values())))
SIGNATURE_HEADER = "X-Mediation-Signature"


def _unit_code(unit_id) -> str | None:
    return db.session.scalar(select(OrgUnit.code).where(OrgUnit.id == unit_id)) if unit_id else None


def _add(case: Case, kind: str, **data) -> OutboxEvent:
    event = OutboxEvent(case_id=case.id, kind=kind, at=utcnow(),
                        data={"number": case.number, "status": case.status.value,
                              "unit": case.unit.code if case.unit else _unit_code(case.unit_id), **data})
    db.session.add(event)
    return event


def _on_registered(case: Case, by=None, **_kw) -> None:
    _add(case, "registered", source=case.source.value)


def _on_transition(case: Case, name: str, event_row=None, by=None, **_kw) -> None:
    kind = STEP_EVENTS.get(name)
    if kind is None:
        return
    changes = (event_row.changes or {}) if event_row is not None else {}
    data = {"from_status": event_row.from_status.value if event_row is not None and event_row.from_status else None}
    if case.outcome is not None and kind in ("concluded", "referred"):
        data["outcome"] = case.outcome.value
    if "transfer" in changes:
        data["transfer"] = changes["transfer"]
    if kind in ("escalated", "handed_down") and case.pending_transfer is not None:
        data["to_unit"] = case.pending_transfer.to_unit.code
    if kind in ("referred", "referral_result") and "referral" in changes:
        data["referral"] = changes["referral"]
        data["destination"] = changes.get("destination")
    if kind == "concluded" and changes.get("outcome"):
        data["outcome"] = changes["outcome"][1]
    _add(case, kind, **data)
    if kind == "referred" and changes.get("outcome"):  # a referral that ends the mediation concludes it too
        _add(case, "concluded", from_status=data["from_status"], outcome=changes["outcome"][1])


def init_app(app) -> None:
    case_services.registered.connect(_on_registered, weak=False)
    workflow.transitioned.connect(_on_transition, weak=False)


# --- delivery ---------------------------------------------------------------------------------

@dataclass
class Subscription:
    name: str
    url: str
    secret: str
    username: str
    kinds: frozenset[str] | None = None


@dataclass
class Report:
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    waiting: int = 0
    problems: list[str] = field(default_factory=list)


def subscriptions(config) -> tuple[list[Subscription], list[str]]:
    """The configured subscriptions and the problems of those that cannot be used."""
    out, problems = [], []
    raw = config.get("API_WEBHOOKS") or []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return [], ["API_WEBHOOKS is not a JSON list"]
    if not isinstance(raw, list | tuple):
        return [], ["API_WEBHOOKS is not a list"]
    seen = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.append(f"API_WEBHOOKS[{i}] is not a mapping")
            continue
        missing = [k for k in ("name", "url", "secret", "user") if not str(item.get(k) or "").strip()]
        if missing:
            problems.append(f"API_WEBHOOKS[{i}] lacks {', '.join(missing)}")
            continue
        name = str(item["name"]).strip()[:64]
        if name in seen:
            problems.append(f"API_WEBHOOKS[{i}]: the name {name!r} is used twice")
            continue
        if not str(item["url"]).startswith(("http://", "https://")):
            problems.append(f"API_WEBHOOKS[{i}]: the url must start with http:// or https://")
            continue
        seen.add(name)
        kinds = item.get("events")
        out.append(Subscription(name=name, url=str(item["url"]), secret=str(item["secret"]),
                                username=str(item["user"]).strip().lower(),
                                kinds=frozenset(kinds) if kinds else None))
    return out, problems


def payload(event: OutboxEvent, case: Case | None, *, hidden: bool) -> dict:
    """What a subscriber receives. A restricted case's event names the case and nothing of what
    happened (as the inbox does)."""
    base = {"id": event.id, "occurred_at": event.at.isoformat(timespec="seconds") + "Z",
            "case": {"id": event.case_id, "number": (event.data or {}).get("number"),
                     "url": f"/api/v1/cases/{event.case_id}"}}
    if hidden:
        return {**base, "type": "case_changed", "case": {**base["case"], "restricted": True}, "data": {}}
    return {**base, "type": event.kind, "data": {k: v for k, v in (event.data or {}).items() if k != "number"}}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _post(sub: Subscription, event: OutboxEvent, body: bytes, attempt: int) -> tuple[bool, int | None, str]:
    timestamp = epoch_seconds()
    request = urllib.request.Request(sub.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "mediation-webhooks/1",
        SIGNATURE_HEADER: sign(sub.secret, timestamp, body), "X-Mediation-Event": event.kind,
        "X-Mediation-Event-Id": str(event.id), "X-Mediation-Delivery-Attempt": str(attempt)})
    try:
        with urllib.request.urlopen(request, timeout=float(current_app.config["API_WEBHOOK_TIMEOUT_SECONDS"])) as resp:
            return 200 <= resp.status < 300, resp.status, ""
    except urllib.error.HTTPError as exc:
        return False, exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return False, None, str(getattr(exc, "reason", exc))[:500]


def _backoff(attempts: int) -> timedelta:
    base = int(current_app.config["API_WEBHOOK_RETRY_BASE_SECONDS"])
    cap = int(current_app.config["API_WEBHOOK_RETRY_MAX_SECONDS"])
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


def deliver(*, limit: int = 500) -> Report:
    """Post what is due to every configured subscription; commits after each event."""
    report = Report()
    subs, report.problems = subscriptions(current_app.config)
    for sub in subs:
        user = db.session.scalar(select(User).where(User.username == sub.username))
        if user is None or not user.active:
            report.problems.append(f"{sub.name}: the account {sub.username!r} does not exist or is inactive")
            continue
        _deliver_to(sub, user, limit, report)
    return report


def _deliver_to(sub: Subscription, user: User, limit: int, report: Report) -> None:
    done = select(WebhookDelivery.event_id).where(WebhookDelivery.subscription == sub.name,
                                                  WebhookDelivery.status != "pending")
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.id.not_in(done))
                                .order_by(OutboxEvent.id).limit(limit)).all()
    rows = {d.event_id: d for d in db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.subscription == sub.name, WebhookDelivery.event_id.in_([e.id for e in events])))}
    held: set[int] = set()  # cases with an earlier event not yet delivered: their later ones wait
    for event in events:
        if event.case_id in held:
            report.waiting += 1
            continue
        row = rows.get(event.id)
        if row is None:
            row = WebhookDelivery(subscription=sub.name, event_id=event.id, status="pending", attempts=0)
            db.session.add(row)
        now = utcnow()
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            held.add(event.case_id)
            report.waiting += 1
            db.session.commit()
            continue
        case = db.session.scalar(access.cases_query(user).where(Case.id == event.case_id))
        if case is None or (sub.kinds is not None and event.kind not in sub.kinds):
            row.status = "skipped"  # outside the subscriber's access (or not asked for): never sent
            report.skipped += 1
            db.session.commit()
            continue
        body = json.dumps(payload(event, case, hidden=access.content_hidden(case)), ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        row.attempts += 1
        ok, status, error = _post(sub, event, body, row.attempts)
        row.response_status = status
        if ok:
            row.status, row.delivered_at, row.next_attempt_at, row.last_error = "delivered", utcnow(), None, ""
            report.delivered += 1
        else:
            row.last_error = error or f"HTTP {status}"
            row.next_attempt_at = utcnow() + _backoff(row.attempts)
            held.add(event.case_id)
            report.failed += 1
            log.warning("webhook %s: event %d not delivered (%s); retry at %s", sub.name, event.id,
                        row.last_error, row.next_attempt_at)
        db.session.commit()
