"""Uploading (from a phone camera too) and serving attachments through the access rule."""
from flask import Blueprint, abort, flash, redirect, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.validators import Length

from .. import access
from ..access import require
from ..diary import services as diary
from ..errors import DomainError
from ..extensions import db
from ..forms import AppForm
from ..labels import DOCUMENT_KIND_LABELS
from ..parsing import arg_id
from ..submissions import Once
from . import services
from .models import Attachment, DocumentKind

bp = Blueprint("attachments", __name__, url_prefix="/cases/<int:case_id>/attachments")
REFUSED_UPLOAD = "refused_upload"  # session key: the kind and description of an upload just refused


def refused_category(case_id: int, entry_id: int | None) -> str:
    """The flash category told beside the upload form used, on that case's page only (base.html
    leaves "attachments…" out)."""
    return f"attachments:{case_id}" if entry_id is None else f"attachments:{case_id}:{entry_id}"


class UploadForm(AppForm):
    # No "capture": phones then offer the camera *and* the gallery or files.
    file = FileField(_l("Photo or PDF"), render_kw={"accept": "image/jpeg,image/png,image/webp,application/pdf"})
    kind = SelectField(_l("Document"), choices=[(k.value, DOCUMENT_KIND_LABELS[k]) for k in DocumentKind])
    title = StringField(_l("Description"), validators=[Length(max=200, message=_l("At most %(max)d characters.",
                                                                                   max=200))])


def _visible(case_id: int, attachment_id: int) -> tuple:
    case = access.get_case_or_404(case_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        abort(404)
    if attachment.entry_id is not None:
        visible = {e.id for e in diary.visible_entries(current_user, case)}
        if attachment.entry_id not in visible:  # a confidential entry's file
            abort(404)
    return case, attachment


@bp.route("/", methods=["POST"])
@require("case.view")
def upload(case_id: int):
    once = Once.posted(current_user)
    case = access.get_case_or_404(case_id)
    form = UploadForm()
    entry_id = request.form.get("entry_id", type=arg_id)
    if request.form.get("entry_id") and entry_id is None:
        abort(404)
    if entry_id is not None and entry_id not in {e.id for e in diary.visible_entries(current_user, case)}:
        abort(404)  # not an entry of this case, or one the user may not see
    back = url_for("cases.detail", case_id=case.id,
                   _anchor=f"entry-{entry_id}" if entry_id is not None else "attachments")
    if form.validate_on_submit() and form.file.data:
        try:
            once.claim()
            services.store(case, by=current_user, data=form.file.data.read(), filename=form.file.data.filename,
                           kind=DocumentKind(form.kind.data), title=form.title.data or "", entry_id=entry_id)
        except DomainError as exc:
            db.session.rollback()
            return _refused(case, entry_id, back, form, [exc.message])
        else:
            once.land(back)
            db.session.commit()
            flash(_("File attached."), "success")
    else:
        messages = [m for field in form for m in field.errors]
        return _refused(case, entry_id, back, form, messages or [_("Choose a file.")])
    return redirect(back)


def _refused(case, entry_id, back: str, form: UploadForm, messages: list) -> object:
    """Back to the case with why, told beside the upload form that was used (the case's or an
    entry's: a flash at the top was a screen away from the button), its kind and description
    as typed, kept in the session for the next page (not in the address: history and access
    logs would keep the description); the file must be chosen again (a browser never fills a
    file box)."""
    for message in messages:
        flash(str(message), refused_category(case.id, entry_id))
    session[REFUSED_UPLOAD] = {"case": case.id, "entry": entry_id, "kind": form.kind.data or "",
                               "title": (form.title.data or "")[:200]}
    return redirect(back)


@bp.route("/<int:attachment_id>")
@require("case.view")
def download(case_id: int, attachment_id: int):
    _case, attachment = _visible(case_id, attachment_id)
    if not services.path_of(attachment).exists():
        abort(404)  # the file is gone from storage (a restore without it): not found, not a crash
    # Always a download with the type found in the content: never shown inline as a page.
    return send_file(services.path_of(attachment), mimetype=attachment.content_type, as_attachment=True,
                     download_name=services.download_name(attachment), max_age=0)


@bp.route("/<int:attachment_id>/thumbnail.jpg")
@require("case.view")
def thumbnail(case_id: int, attachment_id: int):
    _case, attachment = _visible(case_id, attachment_id)
    if not attachment.has_thumbnail or not services.path_of(attachment, thumbnail=True).exists():
        abort(404)
    return send_file(services.path_of(attachment, thumbnail=True), mimetype="image/jpeg", max_age=0)
