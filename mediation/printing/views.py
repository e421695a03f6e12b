"""PDF downloads. Access follows the case rule (out of scope: 404); every print is
recorded on the case timeline."""

from flask import Blueprint, abort, current_app, flash, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import insert
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import NotFound

from .. import access, audit
from ..access import require
from ..agreements.models import AgreementKind
from ..agreements.services import agreement_of
from ..attachments.services import attachments_of, path_of, upright_image
from ..cases.models import Case, CaseEvent
from ..cases.views import prefetch
from ..diary import services as diary
from ..diary.models import EntryKind
from ..downloads import send_download
from ..extensions import db
from ..org.models import OrgUnit
from ..timeutil import local_today, utcnow
from ..transfers.models import CaseHolding
from ..users.models import User
from . import documents
from .case_file import case_file_pdf as make
from .case_file import intake_register, rights_notice
from .pdf import build

bp = Blueprint("printing", __name__, url_prefix="/cases/<int:case_id>")
# A record's kind in its ASCII file name.
RECORD_SLUGS = {EntryKind.SESSION: "session-record", EntryKind.INVESTIGATION: "investigation-record",
                EntryKind.VISIT: "visit-record", EntryKind.CALL: "call-record", EntryKind.FOLLOW_UP: "follow-up-record",
                EntryKind.OTHER: "record"}


def record_print(case, document: str, **details) -> None:
    """The print on the case's timeline ('printed': which document, and details such as
    whether confidential entries were in it) and in the audit log."""
    db.session.add(CaseEvent(case=case, actor=current_user, kind="printed", from_status=case.status,
                             to_status=case.status, changes={"document": document, **details}))
    audit.record("print", target=case, details={"number": case.number, "document": document, **details})


def send_pdf(case, data: bytes, name: str, document: str, **details):
    names = (f"{case.number}{name}.pdf", f"case-{case.year}-{case.seq:04d}-{document.replace('_', '-')}.pdf")
    record_print(case, document, **details)
    db.session.commit()
    return send_download(data, "application/pdf", *names)


def case_for_print(case_id: int):
    """The case with what every printout shows of it (access as everywhere): its parties,
    mediators and holdings (short lists, joined into the case's rows) for the header's
    units and mediators by tier, and its events in a second query: they grow with every
    step and print, and joined beside the parties they would multiply the rows."""
    return db.first_or_404(access.cases_query(current_user).where(Case.id == case_id).options(
        joinedload(Case.category), joinedload(Case.unit).joinedload(OrgUnit.parent),
        joinedload(Case.lead_mediator).lazyload(User.role_rows), joinedload(Case.co_mediators).lazyload(User.role_rows),
        joinedload(Case.parties), selectinload(Case.events).joinedload(CaseEvent.actor).lazyload(User.role_rows),
        joinedload(Case.holdings).joinedload(CaseHolding.unit)))


def committee_name(case) -> str:
    """The committee of the unit holding the case now: the case file's owner. Each paper
    in it names the unit whose work it records (``documents.committee_of``)."""
    return documents.committee_of(case.unit)


@bp.route("/diary.pdf")
@require("case.view")
def diary_pdf(case_id: int):
    case = case_for_print(case_id)
    entries = diary.visible_entries(current_user, case)
    include = request.args.get("confidential") == "1" and diary.sees_confidential(current_user, case)
    if not include:
        entries = [e for e in entries if not e.confidential]
    with force_locale("zh_Hans_CN"):
        data = documents.diary_pdf(case, entries, author=current_user.display_name)
    return send_pdf(case, data, "调解日记", "diary", confidential_included=include)


@bp.route("/diary/<int:entry_id>/record.pdf")
@require("case.view")
def record_pdf(case_id: int, entry_id: int):
    case = case_for_print(case_id)
    entry = next((e for e in diary.visible_entries(current_user, case) if e.id == entry_id), None)
    if entry is None:
        abort(404)
    with force_locale("zh_Hans_CN"):
        data = documents.session_record_pdf(case, entry, author=current_user.display_name)
    name = {"人民调解记录": "调解记录"}.get(title := documents.record_title(entry), title.removeprefix("人民调解"))
    n = diary.entry_number(entry)
    day = entry.occurred_on.isoformat()
    # Each record its own name: the kind, the day and its number in the case's diary (named
    # before the commit, which expires what was read).
    names = (f"{case.number}{name}-{day}-第{n}条.pdf",
             f"case-{case.year}-{case.seq:04d}-{RECORD_SLUGS[entry.kind]}-{day}-entry-{n}.pdf")
    record_print(case, "session_record", entry=entry.id, entry_date=day, entry_kind=entry.kind.value,
                 confidential_included=entry.confidential)
    db.session.commit()
    return send_download(data, "application/pdf", *names)


@bp.route("/file.pdf")
@require("case.view")
def case_file_pdf(case_id: int):
    case = case_for_print(case_id)
    prefetch(case, ("papers",))  # the agreement and the attachments in one query
    entries = diary.visible_entries(current_user, case)
    include = request.args.get("confidential") == "1" and diary.sees_confidential(current_user, case)
    if not include:
        entries = [e for e in entries if not e.confidential]
    visible = {e.id for e in entries}
    attachments = [a for a in attachments_of(case) if a.entry_id is None or a.entry_id in visible]
    with force_locale("zh_Hans_CN"):
        data = make(case, entries=entries, agreement=agreement_of(case), attachments=attachments,
                    read_attachment=upright_image, read_pdf=lambda a: path_of(a).read_bytes(), user=current_user,
                    committee=committee_name(case), config=current_app.config)
    return send_pdf(case, data, "调解卷宗", "case_file", confidential_included=include)


@bp.route("/intake.pdf")
@require("case.view")
def intake_pdf(case_id: int):
    """受理登记表 and 当事人权利义务告知书: the papers handed over at intake."""
    from reportlab.platypus import PageBreak

    case = case_for_print(case_id)
    with force_locale("zh_Hans_CN"):
        story = [*intake_register(case), PageBreak(), *rights_notice(case)]  # each its own committee
        data = build(story, title=f"{case.number} 受理登记表", author=current_user.display_name, subject="受理登记表")
    return send_pdf(case, data, "受理登记表", "intake")


@bp.route("/agreement.pdf")
@require("case.view")
def agreement_pdf(case_id: int):
    case = case_for_print(case_id)
    agreement = agreement_of(case)
    if agreement is None:
        abort(404)
    with force_locale("zh_Hans_CN"):
        data = documents.agreement_pdf(case, agreement, author=current_user.display_name,
                                       config=current_app.config)
    name = "调解协议书" if agreement.kind is AgreementKind.WRITTEN else "口头协议登记表"
    return send_pdf(case, data, name, "agreement")


book_bp = Blueprint("diary_book", __name__, url_prefix="/diary")


def _month(value: str | None):
    from datetime import date

    try:
        first = date.fromisoformat(f"{value}-01") if value else local_today().replace(day=1)
    except ValueError:
        abort(404)
    if not date(2000, 1, 1) <= first <= date(2100, 12, 1):
        abort(404)  # (December 9999 has no next month)
    return first, date(first.year + (first.month == 12), first.month % 12 + 1, 1)


@book_bp.route("/")
@require("case.view")
def index():
    """The diary book on screen: pick the month and whose entries, then print."""
    from flask import render_template

    try:
        first, nxt = _month(request.args.get("month"))
    except NotFound:  # typed into the address: said, and this month shown (a 404 told "not in your area")
        flash(_("“%(value)s” is not a month (year-month, e.g. 2026-11): this month is shown.",
                value=request.args.get("month", "")[:20]), "warning")
        first, nxt = _month(None)
    scope = "unit" if request.args.get("scope") == "unit" else "me"
    days = diary.book_days(current_user, first, nxt, mine_only=scope == "me")
    with_secret = diary.book_days(current_user, first, nxt, mine_only=scope == "me", confidential=True)
    return render_template("diary/book.html", days=days, month=first.strftime("%Y-%m"), scope=scope,
                           count=sum(len(items) for _day, items in days),
                           secret=sum(len(items) for _day, items in with_secret) - sum(len(i) for _d, i in days))


@book_bp.route("/book.pdf")
@require("case.view")
def book_pdf():
    first, nxt = _month(request.args.get("month"))
    scope = "unit" if request.args.get("scope") == "unit" else "me"
    days = diary.book_days(current_user, first, nxt, mine_only=scope == "me",
                           confidential=request.args.get("confidential") == "1")
    who = current_user.display_name if scope == "me" else current_user.unit.label
    with force_locale("zh_Hans_CN"):
        data = documents.diary_book_pdf(f"{who}　{first.year}年{first.month}月", days,
                                        author=current_user.display_name)
    # On the timeline of every case whose entries the book holds: which entries, and
    # whether confidential ones were among them.
    printed: dict = {}
    for _day, items in days:
        for case, entry in items:
            printed.setdefault(case.id, (case, []))[1].append(entry)
    details = {case.id: {"document": "diary_book", "month": first.strftime("%Y-%m"), "scope": scope,
                         "entries": [e.id for e in entries],
                         "confidential_included": any(e.confidential for e in entries)}
               for case, entries in printed.values()}
    if details:  # the timeline rows in one statement, however many cases the book holds
        db.session.execute(insert(CaseEvent), [
            {"case_id": case.id, "at": utcnow(), "actor_id": current_user.id, "kind": "printed",
             "from_status": case.status, "to_status": case.status, "note": "", "changes": details[case.id]}
            for case, _entries in printed.values()])
    for case, _entries in printed.values():
        audit.record("print", target=case, details={"number": case.number, **details[case.id]})
    db.session.commit()
    return send_download(data, "application/pdf", f"调解日记本-{who}-{first.strftime('%Y-%m')}.pdf",
                         f"diary-book-{scope}-{first.strftime('%Y-%m')}.pdf")
