"""Writing the diary of a case: new entries, same-day edits, amendments."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access
from ..access import require
from ..cases.models import Case
from ..errors import DomainError
from ..extensions import db
from ..forms import text_problem
from ..timeutil import local_today
from . import services
from .forms import AmendForm, EntryForm
from .models import DiaryEntry, EntryKind, Performance, Satisfaction, SessionMode

bp = Blueprint("diary", __name__, url_prefix="/cases/<int:case_id>/diary")


def _form(case: Case, obj=None) -> EntryForm:
    form = EntryForm(obj=obj)
    form.party_ids.choices = [(p.id, p.name) for p in case.parties]
    mediators = ([case.lead_mediator] if case.lead_mediator else []) + list(case.co_mediators)
    if current_user.is_authenticated and current_user not in mediators and access.is_delegate(current_user, case):
        mediators.append(current_user)  # the visitor of a delegated follow-up records their own presence
    form.mediator_ids.choices = [(u.id, u.display_name) for u in mediators]
    return form


def _values(form: EntryForm, case: Case, positions=None) -> dict:
    """The entry's values from the validated form; each party's position from the page's
    ``position-<id>`` fields (or, from the API, ``positions``: {party id: text})."""
    if positions is None:
        positions = {str(p.id): request.form.get(f"position-{p.id}", "") for p in case.parties}

    def enum_or_none(cls, value):
        return cls(value) if value else None

    return {
        "kind": EntryKind(form.kind.data), "occurred_on": form.occurred_on.data, "start_time": form.start_time.data,
        "duration_minutes": form.duration_minutes.data, "place": (form.place.data or "").strip(),
        "mode": enum_or_none(SessionMode, form.mode.data), "party_ids": form.party_ids.data or [],
        "mediator_ids": form.mediator_ids.data or [], "others_present": (form.others_present.data or "").strip(),
        "issues": (form.issues.data or "").strip(), "proposals": (form.proposals.data or "").strip(),
        "result": (form.result.data or "").strip(), "next_step": (form.next_step.data or "").strip(),
        "next_date": form.next_date.data, "confidential": bool(form.confidential.data),
        "performance": enum_or_none(Performance, form.performance.data),
        "satisfaction": enum_or_none(Satisfaction, form.satisfaction.data),
        "remaining_risk": (form.remaining_risk.data or "").strip(),
        "positions": {str(p.id): positions.get(str(p.id), "") for p in case.parties},
    }


POSITION_MAX = 5000


def position_problems(case: Case, positions: dict) -> dict[int, str]:
    """Each party's position is checked as the form's text fields are (markup, control
    characters, length): never cut short or saved with markup."""
    errors = {}
    for p in case.parties:
        value = positions.get(str(p.id), "")
        problem = text_problem(value) or (
            _("At most %(max)d characters.", max=POSITION_MAX) if len(value) > POSITION_MAX else None)
        if problem:
            errors[p.id] = problem
    return errors


def _position_errors(case: Case) -> dict[int, str]:
    if request.method != "POST":
        return {}
    return position_problems(case, {str(p.id): request.form.get(f"position-{p.id}", "") for p in case.parties})


entry_form = _form
entry_values = _values


def _entry_or_404(case: Case, entry_id: int) -> DiaryEntry:
    entry = db.session.get(DiaryEntry, entry_id)
    if entry is None or entry.case_id != case.id or entry not in services.visible_entries(current_user, case):
        abort(404)
    return entry


@bp.app_template_global("entry_history")
def entry_history(entry: DiaryEntry, case: Case) -> list[dict]:
    """The same-day edits of an entry, for diary/_entry.html: whoever sees the entry
    sees how it was edited (who, when, what changed)."""
    return services.revision_history(entry, case) if entry.revisions else []


@bp.app_template_global("prints_confidential")
def prints_confidential(case: Case, entries) -> bool:
    """Whether the case page offers prints with the confidential entries: to the case's
    mediators, when there are such entries."""
    return services.sees_confidential(current_user, case) and any(e.confidential for e in entries)


@bp.app_template_global("entry_files")
def entry_files(entry: DiaryEntry, attachments) -> list:
    """The files attached to one entry, for its card on the case page."""
    return [a for a in attachments if a.entry_id == entry.id]


@bp.route("/new", methods=["GET", "POST"])
@require("case.view")
def new(case_id: int):
    case = access.get_case_or_404(case_id)
    if not services.can_write(current_user, case):
        abort(403)
    form = _form(case)
    if request.method == "GET":
        form.occurred_on.data = local_today()
        form.kind.data = request.args.get("kind", EntryKind.SESSION.value)
        form.mediator_ids.data = [current_user.id] if current_user.id in case.mediator_ids else []
    position_errors = _position_errors(case)
    if form.validate_on_submit() and not position_errors:
        try:
            services.write_entry(case, by=current_user, values=_values(form, case))
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "kind").errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Diary entry saved."), "success")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor="diary"))
    return render_template("diary/form.html", case=case, form=form, entry=None, positions=request.form,
                           position_errors=position_errors)


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@require("case.view")
def edit(case_id: int, entry_id: int):
    case = access.get_case_or_404(case_id)
    entry = _entry_or_404(case, entry_id)
    if not services.can_edit(current_user, entry):
        if entry.author_id != current_user.id:
            abort(403)
        # The day has turned since the page was opened: the entry is closed to edits.
        flash(_("Only its author may edit an entry, on the day it was written; add an amendment instead."),
              "warning")
        return redirect(url_for("diary.amend", case_id=case.id, entry_id=entry.id))
    # Filled from the entry only on GET: on POST, absent boxes mean "unticked", not "as before".
    form = _form(case, obj=entry if request.method == "GET" else None)
    if request.method == "GET":
        for name in ("kind", "mode", "performance", "satisfaction"):
            value = getattr(entry, name)
            form[name].data = value.value if value else ""
    position_errors = _position_errors(case)
    if form.validate_on_submit() and not position_errors:
        try:
            services.edit_entry(entry, case, by=current_user, values=_values(form, case))
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "kind").errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"entry-{entry.id}"))
    positions = request.form if request.method == "POST" else {f"position-{k}": v for k, v in entry.positions.items()}
    return render_template("diary/form.html", case=case, form=form, entry=entry, positions=positions,
                           position_errors=position_errors)


@bp.route("/<int:entry_id>/amend", methods=["GET", "POST"])
@require("case.view")
def amend(case_id: int, entry_id: int):
    case = access.get_case_or_404(case_id)
    entry = _entry_or_404(case, entry_id)
    if not access.acts_on(current_user, case):
        abort(403)
    form = AmendForm()
    if form.validate_on_submit():
        try:
            services.amend(entry, case, by=current_user, reason=form.reason.data, text=form.text.data)
        except DomainError as exc:
            db.session.rollback()
            form.text.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Amendment added."), "success")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"entry-{entry.id}"))
    return render_template("diary/amend.html", case=case, entry=entry, form=form)
