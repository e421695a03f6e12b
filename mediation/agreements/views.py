"""The agreement page: record the terms, track judicial confirmation, print."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import access
from ..access import require
from ..errors import DomainError
from ..extensions import db
from ..forms import flash_errors
from ..parsing import ascii_int
from ..submissions import Once
from ..timeutil import local_today
from . import services
from .forms import AgreementForm, ConfirmationForm
from .models import AgreementKind, Confirmation

bp = Blueprint("agreements", __name__, url_prefix="/cases/<int:case_id>/agreement")


def _sent_version(raw: str | None) -> int | None:
    """The version the form was filled from; one that is not a number counts as stale (-1)."""
    raw = (raw or "").strip()
    if not raw:
        return None  # a post without the field (not from this form) is not checked
    number = ascii_int(raw, 0)
    return -1 if number is None else number


@bp.route("/", methods=["GET", "POST"])
@require("case.view")
def edit(case_id: int):
    once = Once.posted(current_user)
    case = access.get_case_or_404(case_id)
    agreement = services.agreement_of(case)
    editable = services.can_edit(current_user, case)
    form = AgreementForm(obj=agreement if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(agreement.version if agreement else 0)
        if agreement is None:
            form.reached_on.data = local_today()
            form.facts.data = case.summary
        else:
            form.kind.data = agreement.kind.value
            while form.terms.entries:
                form.terms.pop_entry()
            # The recorded terms and two empty boxes for more (empty boxes are ignored).
            for t in agreement.terms + [None, None]:
                entry = form.terms.append_entry()
                if t is not None:
                    entry.form.content.data, entry.form.method.data, entry.form.deadline.data = (
                        t.content, t.method, t.deadline)
    focus_term = None
    status = 200
    if request.method == "POST":
        if not editable:
            # The case moved or closed while the form was open: the form again, as sent, with why.
            form.validate()
            form.form_errors.append(services.why_not_editable(current_user, case))
            editable, status = True, 409
        elif "add_term" in request.form:
            # The no-JavaScript path of "add a term": the same form with one more empty
            # term, everything typed kept; nothing is checked or saved yet.
            if len(form.terms.entries) < form.terms.max_entries:
                form.terms.append_entry()
            focus_term = len(form.terms.entries) - 1
        elif form.validate():
            try:
                once.claim()
                services.save_agreement(
                    case, by=current_user, kind=AgreementKind(form.kind.data), reached_on=form.reached_on.data,
                    facts=form.facts.data or "", disputed_points=form.disputed_points.data or "",
                    copies=form.copies.data, terms=[e.form.data for e in form.terms.entries],
                    expected_version=_sent_version(form.version.data))
                target = once.land(url_for("cases.detail", case_id=case.id, _anchor="agreement"))
                db.session.commit()
            except (IntegrityError, StaleDataError):
                # Two saves at the same moment (two first saves, or two edits): the other one won.
                db.session.rollback()
                won = services.agreement_of(case)
                form.form_errors.append(services.stale_message(won) if won else _("Please save again."))
            except DomainError as exc:
                db.session.rollback()
                target = getattr(form, exc.field, None) if exc.field else None
                (target.errors if target is not None and exc.field != "terms" else form.form_errors).append(
                    exc.message)
            else:
                flash(_("Agreement saved."), "success")
                return redirect(target)
    confirmation = ConfirmationForm(formdata=None)
    if agreement is not None:
        confirmation.status.data = agreement.confirmation.value
        confirmation.applied_on.data = agreement.confirmation_applied_on
        confirmation.decided_on.data = agreement.confirmation_decided_on
        confirmation.court.data = agreement.confirmation_court
        confirmation.note.data = agreement.confirmation_note
    return render_template("agreements/edit.html", case=case, agreement=agreement, form=form, editable=editable,
                           confirmation=confirmation, reminder=services.confirmation_reminder(case, agreement),
                           focus_term=focus_term,
                           may_track=services.may_track(current_user, case)), status


@bp.route("/confirmation", methods=["POST"])
@require("case.view")
def confirmation(case_id: int):
    case = access.get_case_or_404(case_id)
    agreement = services.agreement_of(case)
    if agreement is None:
        abort(404)
    form = ConfirmationForm()
    if form.validate_on_submit():
        try:
            services.update_confirmation(case, agreement, by=current_user, status=Confirmation(form.status.data),
                                         applied_on=form.applied_on.data, decided_on=form.decided_on.data,
                                         court=form.court.data or "", note=form.note.data or "")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
    else:
        flash_errors(form)
    return redirect(url_for("agreements.edit", case_id=case.id))
