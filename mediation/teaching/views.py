"""e家学 teaching cases (以案释法): the library, drafting from a case, editing, review, PDF."""
from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import access
from ..access import require
from ..cases.models import Category
from ..errors import DomainError
from ..extensions import db
from ..i18n import fmt_datetime
from ..parsing import arg_id
from ..stamps import is_stale, stamp
from ..submissions import Once
from . import services
from .forms import RejectForm, TeachingForm
from .models import EDITABLE, TeachingCase, TeachingStatus
from .pdf import teaching_pdf

bp = Blueprint("teaching", __name__, url_prefix="/teaching")

STATUS_LABELS = {
    TeachingStatus.DRAFT: _l("draft"),
    TeachingStatus.SUBMITTED: _l("submitted for review"),
    TeachingStatus.APPROVED: _l("approved"),
    TeachingStatus.PUBLISHED: _l("published"),
    TeachingStatus.REJECTED: _l("returned"),
}


@bp.route("/")
@require("teaching.view")
def index():
    view = request.args.get("view", "library")
    category_id = request.args.get("category", type=arg_id)
    reviewer = services.is_reviewer(current_user)
    if view == "mine":
        items = db.session.scalars(services.mine_query(current_user)).all()
    elif view == "review" and reviewer:
        items = db.session.scalars(services.review_query(current_user)).all()
    else:
        view = "library"
        items = db.session.scalars(services.library_query(category_id)).all()
    categories = db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)).all()
    return render_template("teaching/index.html", items=items, view=view, category_id=category_id,
                           categories=categories, reviewer=reviewer)


@bp.route("/from-case/<int:case_id>", methods=["POST"])
@require("teaching.view")
def draft(case_id: int):
    once = Once.posted(current_user)
    case = access.get_case_or_404(case_id)
    try:
        once.claim()
        tc = services.draft_from_case(case, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("cases.detail", case_id=case.id))
    target = once.land(url_for("teaching.edit", teaching_id=tc.id))
    db.session.commit()
    flash(_("Draft created from the case, anonymised automatically. Check it, add the legal point and submit."),
          "success")
    return redirect(target)


@bp.route("/<int:teaching_id>")
@require("teaching.view")
def show(teaching_id: int):
    tc = services.get_or_404(current_user, teaching_id)
    return render_template("teaching/show.html", tc=tc, reviewer=services.reviews(current_user, tc),
                           reject_form=RejectForm(formdata=None), editable=_editable(tc),
                           findings=services.describe(services.findings(tc)) if _editable(tc) else [])


FORM_FIELDS = {"process": "mediation_process"}  # model field -> form field, where they differ


def _editable(tc) -> bool:
    return tc.author_id == current_user.id and tc.status in EDITABLE


@bp.route("/<int:teaching_id>/edit", methods=["GET", "POST"])
@require("teaching.view")
def edit(teaching_id: int):
    tc = services.get_or_404(current_user, teaching_id)
    if not _editable(tc):
        abort(404 if tc.author_id != current_user.id else 403)
    form = TeachingForm(obj=tc, mediation_process=tc.process)
    current = stamp(tc.status.value, *(getattr(tc, f) for f in TeachingCase.TEXT_FIELDS))
    if request.method == "GET":
        form.stamp.data = current
    if request.method == "POST" and form.validate() and is_stale(form.stamp.data, current):
        flash(_("This teaching case was changed at %(when)s (saved in another window, or sent back by a "
                "reviewer); reload the page and make your change again.", when=fmt_datetime(tc.updated_at)),
              "danger")
    elif request.method == "POST" and form.validate():
        values = {f: getattr(form, FORM_FIELDS.get(f, f)).data for f in TeachingCase.TEXT_FIELDS}
        try:
            services.save(tc, by=current_user, values=values)
            if request.form.get("submit_for_review"):
                services.submit(tc, by=current_user)
        except DomainError as exc:
            db.session.rollback()
            # At its field, which the summary at the top names (a flash as well told it twice).
            getattr(form, FORM_FIELDS.get(exc.field, exc.field or "facts")).errors = [exc.message]
        else:
            db.session.commit()
            flash(_("Submitted for review.") if tc.status is TeachingStatus.SUBMITTED else _("Saved."), "success")
            return redirect(url_for("teaching.show", teaching_id=tc.id))
    findings = services.describe(services.findings(tc)) if request.method == "GET" else []
    return render_template("teaching/edit.html", tc=tc, form=form, findings=findings)


def _review_step(teaching_id: int, step) -> object:
    tc = services.get_or_404(current_user, teaching_id)
    if not services.reviews(current_user, tc):
        abort(403)
    try:
        step(tc)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("Done."), "success")
    return redirect(url_for("teaching.show", teaching_id=tc.id))


@bp.route("/<int:teaching_id>/approve", methods=["POST"])
@require("teaching.review")
def approve(teaching_id: int):
    return _review_step(teaching_id, lambda tc: services.approve(tc, by=current_user))


@bp.route("/<int:teaching_id>/publish", methods=["POST"])
@require("teaching.review")
def publish(teaching_id: int):
    return _review_step(teaching_id, lambda tc: services.publish(tc, by=current_user))


@bp.route("/<int:teaching_id>/reject", methods=["POST"])
@require("teaching.review")
def reject(teaching_id: int):
    return _review_step(teaching_id, lambda tc: services.reject(tc, by=current_user,
                                                                reason=request.form.get("reason", "")))


@bp.route("/<int:teaching_id>.pdf")
@require("teaching.view")
def pdf(teaching_id: int):
    tc = services.get_or_404(current_user, teaching_id)
    with force_locale("zh_Hans_CN"):
        data = teaching_pdf(tc, author=current_user.display_name)
    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"以案释法-{tc.id}.pdf", max_age=0)


@bp.app_context_processor
def _inject():
    def may_draft(case) -> bool:
        return current_user.is_authenticated and services.may_draft(current_user, case)

    def own_drafts(case) -> list[TeachingCase]:
        if not current_user.is_authenticated:
            return []
        return db.session.scalars(select(TeachingCase).where(
            TeachingCase.source_case_id == case.id, TeachingCase.author_id == current_user.id)
            .order_by(TeachingCase.id)).all()

    return {"teaching_may_draft": may_draft, "teaching_own_drafts": own_drafts,
            "teaching_status_label": lambda status: STATUS_LABELS[status]}
