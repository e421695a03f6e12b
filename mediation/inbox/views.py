"""The inbox: newest first; opening an item marks it read and goes to its case."""
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select, update

from .. import labels
from ..cases.models import Outcome
from ..extensions import db
from ..i18n import fmt_date
from ..timeutil import utcnow
from ..transfers.models import EscalationReason, Urgency
from . import services
from .models import Notification

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
PER_PAGE = 50


def describe(n: Notification) -> str:
    """The item worded in the user's language (details removed by retention: a plain note)."""
    try:
        return _describe(n)
    except (KeyError, ValueError, TypeError):
        return _("Details no longer kept.")


def _describe(n: Notification) -> str:
    from datetime import date

    p = n.params or {}

    def day(key):
        return fmt_date(date.fromisoformat(p[key])) if p.get(key) else "—"

    if n.kind == "transfer_in":
        reason = labels.ESCALATION_REASON_LABELS[EscalationReason(p["reason"])]
        urgency = labels.URGENCY_LABELS[Urgency(p["urgency"])]
        if p.get("direction") == "hand_down":
            return _("Handed down by %(unit)s to your unit (%(reason)s, %(urgency)s): accept or return it.",
                     unit=p["from_unit"], reason=reason, urgency=urgency)
        return _("Escalated by %(unit)s to your unit (%(reason)s, %(urgency)s): accept or return it.",
                 unit=p["from_unit"], reason=reason, urgency=urgency)
    if n.kind == "transfer_withdrawn":
        return _("%(unit)s withdrew the case it had sent you.", unit=p["from_unit"])
    if n.kind == "transfer_returned":
        return _("%(unit)s returned the case: %(reason)s", unit=p["to_unit"], reason=p.get("reason", ""))
    if n.kind == "transfer_accepted":
        return _("%(unit)s accepted the case you sent.", unit=p["to_unit"])
    if n.kind == "assigned":
        return _("You were assigned to mediate this case (%(unit)s).", unit=p["unit"])
    if n.kind == "outcome":
        return _("Outcome of a case your unit passed on: %(outcome)s (%(unit)s).",
                 outcome=labels.OUTCOME_LABELS[Outcome(p["outcome"])], unit=p["unit"])
    if n.kind == "delegated":
        return _("%(unit)s asks your unit for a follow-up visit by %(date)s: %(text)s",
                 unit=p["unit"], date=day("due"), text=p["instruction"])
    if n.kind == "delegation_done":
        return _("%(unit)s recorded the follow-up visit you asked for.", unit=p["unit"])
    if n.kind == "overdue":
        return _("Overdue: the time limit ended on %(date)s.", date=day("due"))
    if n.kind == "planned":
        return _("Planned for %(date)s: %(step)s", date=day("date"), step=p.get("step") or _("next session"))
    if n.kind == "follow_up_due":
        return _("Follow-up visit due on %(date)s (%(days)d days after settlement).", date=day("due"),
                 days=p["days"])
    if n.kind == "confirmation_due":
        return _("Judicial confirmation can be applied for until %(date)s.", date=day("deadline"))
    if n.kind == "transfer_late":
        return _("Waiting to be accepted at %(unit)s for more than %(n)d days.", unit=p["to_unit"],
                 n=_deadline_days())
    if n.kind == "escalation_advised":
        return str(labels.ADVICE_LABELS.get(p.get("reason"), p.get("reason")))
    if n.kind == "lead_new":
        if p.get("urgency") == "emergency":
            return _("Emergency lead from %(unit)s (reported by %(who)s): someone may be hurt. Act now.",
                     unit=p["unit"], who=p["reporter"])
        return _("Urgent lead from %(unit)s (reported by %(who)s): please handle it soon.", unit=p["unit"],
                 who=p["reporter"])
    if n.kind == "reopened":
        return _("Reopened by %(who)s: %(reason)s. The time limit now ends on %(date)s.", who=p.get("by") or "—",
                 reason=p.get("reason") or "—", date=day("due"))
    if n.kind == "lead_registered":
        if p.get("reported"):
            return _("Your lead of %(date)s was registered as a case by %(who)s.", date=day("reported"), who=p["by"])
        return _("Your lead was registered as a case by %(who)s.", who=p["by"])
    if n.kind == "lead_dismissed":
        if p.get("reported"):
            return _("Your lead of %(date)s was set aside by %(who)s: %(reason)s", date=day("reported"), who=p["by"],
                     reason=p.get("reason", ""))
        return _("Your lead was dismissed by %(who)s: %(reason)s", who=p["by"], reason=p.get("reason", ""))
    return n.kind


def target_of(n: Notification) -> str:
    """Where opening an item leads: its case, or its lead in the list of leads."""
    if n.case_id is not None:
        return url_for("cases.detail", case_id=n.case_id)
    lead = (n.params or {}).get("lead")
    if isinstance(lead, int):
        return url_for("leads.index", _anchor=f"lead-{lead}")
    return url_for("inbox.index")


PRIORITY_LABELS = {1: _l("urgent"), 2: _l("emergency")}


def _deadline_days() -> int:
    from flask import current_app

    return current_app.config["TRANSFER_DEADLINE_DAYS"]


@bp.route("/")
@login_required
def index():
    """Newest first, a page at a time (``?after=`` / ``?before=`` a cursor). What has come
    due is looked for at most every INBOX_SYNC_SECONDS per login (``maybe_sync``)."""
    services.maybe_sync(current_user, session)
    unread_only = request.args.get("unread") == "1"
    page = services.inbox_page(current_user, unread_only=unread_only, per_page=PER_PAGE,
                               after=request.args.get("after"), before=request.args.get("before"))
    pinned = [] if page.before or request.args.get("after") else services.pinned_of(current_user)
    return render_template("inbox/index.html", page=page, items=pinned + page.items, priority_labels=PRIORITY_LABELS,
                           unread_only=unread_only,
                           describe=describe, unread=services.unread_count(current_user),
                           args={"unread": 1} if unread_only else {})


@bp.route("/<int:item_id>")
@login_required
def open_item(item_id: int):
    n = db.first_or_404(select(Notification).where(Notification.id == item_id,
                                                   Notification.user_id == current_user.id))
    services.mark_read(n)
    db.session.commit()
    return redirect(target_of(n))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                  Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return redirect(url_for("inbox.index"))


def init_app(app) -> None:
    @app.context_processor
    def _inject():
        def inbox_unread() -> int:
            if not current_user.is_authenticated:
                return 0
            services.maybe_sync(current_user, session)
            return services.unread_count(current_user)

        return {"inbox_unread": inbox_unread}
