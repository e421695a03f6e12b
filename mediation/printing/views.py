"""PDF downloads. Access follows the case rule (out of scope: 404); every print is
recorded on the case timeline."""
from io import BytesIO

from flask import Blueprint, abort, current_app, request, send_file
from flask_babel import force_locale
from flask_login import current_user

from .. import access
from ..access import require
from ..cases.models import CaseEvent
from ..diary import services as diary
from ..diary.models import DiaryEntry
from ..extensions import db
from . import documents

bp = Blueprint("printing", __name__, url_prefix="/cases/<int:case_id>")


def send_pdf(case, data: bytes, name: str, document: str, **details):
    db.session.add(CaseEvent(case=case, actor=current_user, kind="printed", from_status=case.status,
                             to_status=case.status, changes={"document": document, **details}))
    db.session.commit()
    # A Chinese file name: Werkzeug adds the RFC 5987 filename* form for it.
    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{case.number}{name}.pdf", max_age=0)


def committee_name(case) -> str:
    return current_app.config["COMMITTEE_NAME"] or f"{case.unit.name}人民调解委员会"


@bp.route("/diary.pdf")
@require("case.view")
def diary_pdf(case_id: int):
    case = access.get_case_or_404(case_id)
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
    case = access.get_case_or_404(case_id)
    entry = db.session.get(DiaryEntry, entry_id)
    if entry is None or entry.case_id != case.id or entry not in diary.visible_entries(current_user, case):
        abort(404)
    with force_locale("zh_Hans_CN"):
        data = documents.session_record_pdf(case, entry, author=current_user.display_name,
                                            committee=committee_name(case))
    return send_pdf(case, data, "调解记录", "session_record", entry=entry.id)


@bp.route("/agreement.pdf")
@require("case.view")
def agreement_pdf(case_id: int):
    from ..agreements.models import AgreementKind
    from ..agreements.services import agreement_of

    case = access.get_case_or_404(case_id)
    agreement = agreement_of(case)
    if agreement is None:
        abort(404)
    with force_locale("zh_Hans_CN"):
        data = documents.agreement_pdf(case, agreement, author=current_user.display_name,
                                       committee=committee_name(case), config=current_app.config)
    name = "调解协议书" if agreement.kind is AgreementKind.WRITTEN else "口头协议登记表"
    return send_pdf(case, data, name, "agreement")
