"""Writing the diary of a case: new entries, same-day edits, amendments."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from .. import access
from ..access import require
from ..agreements.services import agreement_of
from ..cases.models import Case
from ..errors import DomainError
from ..extensions import db
from ..forms import add_domain_error, text_problem
from ..labels import PARTY_ROLE_LABELS, PERFORMANCE_LABELS
from ..submissions import Once
from ..timeutil import local_date_of, local_today
from ..users.models import User
from . import services
from .forms import AmendForm, EntryForm, FollowUpForm
from .models import DiaryEntry, EntryKind, Performance, Satisfaction, SessionMode

bp = Blueprint("diary", __name__, url_prefix="/cases/<int:case_id>/diary")


def _case(case_id: int) -> Case:
    """The case with what the diary pages ask of it (holder, mediators, parties, a pending
    transfer) in one query."""
    return db.first_or_404(access.cases_query(current_user).where(Case.id == case_id).options(
        joinedload(Case.unit), joinedload(Case.lead_mediator).lazyload(User.role_rows),
        joinedload(Case.co_mediators).lazyload(User.role_rows), joinedload(Case.parties),
        joinedload(Case.pending_transfer)))


def _mediators(case: Case) -> list:
    mediators = ([case.lead_mediator] if case.lead_mediator else []) + list(case.co_mediators)
    if current_user.is_authenticated and current_user not in mediators and access.is_delegate(current_user, case):
        mediators.append(current_user)  # the visitor of a delegated follow-up records their own presence
    return mediators


def _form(case: Case, obj=None, follow_up: bool = False) -> EntryForm | FollowUpForm:
    form = (FollowUpForm if follow_up else EntryForm)(obj=obj)
    form.party_ids.choices = [(p.id, p.name) for p in case.parties]
    form.mediator_ids.choices = [(u.id, u.display_name) for u in _mediators(case)]
    return form


def _read(cls, value):
    """An enum from a form value, None when empty or not one of its values."""
    try:
        return cls(value) if value else None
    except ValueError:
        return None


def _values(form, case: Case, terms: list[dict] | None = None, *, positions: dict | None = None) -> dict:
    """The entry's values from the form (a field the form refused reads as None); each party's
    position from the page's ``position-<id>`` fields (or, from the API, ``positions``)."""
    if positions is None:
        positions = {str(p.id): request.form.get(f"position-{p.id}", "") for p in case.parties}
    values = {
        "kind": _read(EntryKind, form.kind.data), "occurred_on": form.occurred_on.data,
        "start_time": form.start_time.data, "duration_minutes": form.duration_minutes.data,
        "place": (form.place.data or "").strip(), "mode": _read(SessionMode, form.mode.data),
        "party_ids": form.party_ids.data or [], "mediator_ids": form.mediator_ids.data or [],
        "others_present": (form.others_present.data or "").strip(),
        "result": (form.result.data or "").strip(), "next_step": (form.next_step.data or "").strip(),
        "next_date": form.next_date.data,
    }
    if isinstance(form, FollowUpForm):
        values.update({
            "issues": "", "proposals": "", "positions": {}, "confidential": False,
            "performance": _read(Performance, form.performance.data),
            "satisfaction": _read(Satisfaction, form.satisfaction.data),
            "remaining_risk": (form.remaining_risk.data or "").strip(), "term_performance": terms or [],
        })
        if terms:
            values["performance"] = services.overall_performance(terms)
    else:
        values.update({
            "issues": (form.issues.data or "").strip(), "proposals": (form.proposals.data or "").strip(),
            "confidential": bool(form.confidential.data),
            "positions": {str(p.id): positions.get(str(p.id), "") for p in case.parties},
        })
    return values


POSITION_MAX = 5000


def position_problems(case: Case, positions: dict) -> dict[int, str]:
    """Each party's position is checked as the form's text fields are (markup, control
    characters, emoji, length): never cut short or saved with markup."""
    errors = {}
    for p in case.parties:
        value = positions.get(str(p.id), "")
        problem = text_problem(value) or (
            _("At most %(max)d characters.", max=POSITION_MAX) if len(value) > POSITION_MAX else None)
        if problem:
            errors[p.id] = problem
    return errors


def _terms_of(case: Case, entry: DiaryEntry | None) -> list[str]:
    """The terms a follow-up goes through: those the entry recorded, else the agreement's."""
    if entry is not None and entry.term_performance:
        return [item["term"] for item in entry.term_performance]
    agreement = agreement_of(case)
    return [t.content for t in agreement.terms] if agreement is not None else []


def _term_findings(terms: list[str]) -> tuple[list[dict], dict[int, str]]:
    """Each term with the finding ticked for it (``term-<n>``), and the terms left unticked."""
    known = {p.value for p in Performance}
    findings, missing = [], {}
    for n, term in enumerate(terms):
        value = request.form.get(f"term-{n}", "")
        if value in known:
            findings.append({"term": term, "performance": value})
        else:
            missing[n] = _("Tick whether this term was performed.")
    return findings, missing


def _save(case: Case, form, *, entry: DiaryEntry | None = None, once: Once | None = None):
    """Validate everything at once (the form's fields, each party's position or each term,
    and the diary's rules) and save; returns the error summary's extra items, or None when
    saved (a new entry: where it landed, kept with the form's submission key ``once``)."""
    follow_up = isinstance(form, FollowUpForm)
    positions = {} if follow_up else _position_errors(case)
    terms = _terms_of(case, entry) if follow_up else []
    findings, missing = _term_findings(terms) if follow_up else ([], {})
    ok = form.validate_on_submit()
    values = _values(form, case, findings if terms and not missing else None)
    found = services.problems(case, values)
    if terms:  # each term is asked for: the overall box is not shown
        found = [(f, m) for f, m in found if f not in ("performance", "term_performance")]
    if found:
        add_domain_error(form, DomainError(found[0][1], errors=found), "kind")
    party = {p.id: p for p in case.parties}  # the summary names whose position is refused
    extra = [(f"position-{pid}", _("Position of %(name)s (%(role)s)", name=party[pid].name,
                                    role=PARTY_ROLE_LABELS[party[pid].role]), m) for pid, m in positions.items()]
    extra += [(f"term-{n}", _("Term %(n)d", n=n + 1), m) for n, m in missing.items()]
    if not ok or found or extra:
        return extra
    target = None
    try:
        if entry is None:
            if once is not None:
                once.claim()
            services.write_entry(case, by=current_user, values=values)
            target = url_for("cases.detail", case_id=case.id, _anchor="diary")
            if once is not None:
                target = once.land(target)
        else:
            services.edit_entry(entry, case, by=current_user, values=values)
    except DomainError as exc:
        db.session.rollback()
        add_domain_error(form, exc, "kind")
        return []
    db.session.commit()
    return target


def _render(case: Case, form, entry, extra, positions):
    if isinstance(form, FollowUpForm):
        terms = _terms_of(case, entry)
        if request.method == "POST":
            ticked = {n: request.form.get(f"term-{n}", "") for n in range(len(terms))}
        elif entry is not None:
            ticked = {n: item["performance"] for n, item in enumerate(entry.term_performance or [])}
        else:
            ticked = {}
        missing = {i.removeprefix("term-") for i, _label, _m in extra if i.startswith("term-")}
        return render_template("diary/follow_up.html", case=case, form=form, entry=entry, extra=extra,
                               terms=list(enumerate(terms)), ticked=ticked, missing=missing,
                               performance_choices=[(p.value, PERFORMANCE_LABELS[p]) for p in Performance])
    position_errors = {int(i.removeprefix("position-")): m for i, _label, m in extra if i.startswith("position-")}
    return render_template("diary/form.html", case=case, form=form, entry=entry, positions=positions,
                           position_errors=position_errors, extra=extra)


def _position_errors(case: Case) -> dict[int, str]:
    if request.method != "POST":
        return {}
    return position_problems(case, {str(p.id): request.form.get(f"position-{p.id}", "") for p in case.parties})


# The API (api/records.py) builds entries with the page's form and values.
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
    once = Once.posted(current_user)
    case = _case(case_id)
    writable = services.can_write(current_user, case)
    if not writable and request.method == "GET":
        abort(403)
    follow_up = request.values.get("kind") == EntryKind.FOLLOW_UP.value
    if writable and not follow_up and services.visit_only(current_user, case):
        return redirect(url_for("diary.new", case_id=case.id, kind=EntryKind.FOLLOW_UP.value))
    form = _form(case, follow_up=follow_up)
    if not writable:  # the case moved or closed while the form was open: refused, nothing typed lost
        form.validate()
        form.form_errors.append(services.why_not_writable(current_user, case))
        return _render(case, form, None, [], request.form), 409
    if request.method == "GET":
        form.occurred_on.data = local_today()
        if not follow_up:
            kind = request.args.get("kind", EntryKind.SESSION.value)
            form.kind.data = kind if kind in {c[0] for c in form.kind.choices} else EntryKind.SESSION.value
        # The one writing was there: ticked as present (a visitor of a delegated visit too).
        form.mediator_ids.data = [current_user.id] if current_user.id in {c[0] for c in form.mediator_ids.choices} \
            else []
    extra = _save(case, form, once=once) if request.method == "POST" else []
    if isinstance(extra, str):  # saved: where it landed
        flash(_("Diary entry saved."), "success")
        return redirect(extra)
    return _render(case, form, None, extra, request.form)


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@require("case.view")
def edit(case_id: int, entry_id: int):
    case = _case(case_id)
    entry = _entry_or_404(case, entry_id)
    if not services.can_edit(current_user, entry):
        if entry.author_id != current_user.id:
            abort(403)
        if local_date_of(entry.created_at) == local_today():
            # The author, today: the case moved or closed while the form was open. The edit comes
            # back as typed, with why (a redirect to the amendment form lost it, QA).
            if request.method == "POST":
                form = _form(case, follow_up=entry.kind is EntryKind.FOLLOW_UP)
                form.validate()
                form.form_errors.append(services.why_not_writable(current_user, case))
                return _render(case, form, entry, [], request.form), 409
            flash(services.why_not_writable(current_user, case, kept=False), "warning")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"entry-{entry.id}"))
        if not services.may_amend(current_user, case):  # a visiting unit, a case sent on: nothing to offer
            flash(_("Only its author may edit an entry, on the day it was written."), "warning")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"entry-{entry.id}"))
        # The day has turned since the page was opened: the entry is closed to edits.
        flash(_("Only its author may edit an entry, on the day it was written; add an amendment instead."),
              "warning")
        return redirect(url_for("diary.amend", case_id=case.id, entry_id=entry.id))
    # Filled from the entry only on GET: on POST, absent boxes mean "unticked", not "as before".
    follow_up = entry.kind is EntryKind.FOLLOW_UP
    form = _form(case, obj=entry if request.method == "GET" else None, follow_up=follow_up)
    if request.method == "GET":
        for name in ("kind", "mode", "performance", "satisfaction"):
            if hasattr(form, name):
                value = getattr(entry, name)
                form[name].data = value.value if value else ""
    extra = _save(case, form, entry=entry) if request.method == "POST" else []
    if extra is None:
        flash(_("Saved."), "success")
        return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"entry-{entry.id}"))
    positions = request.form if request.method == "POST" else {f"position-{k}": v for k, v in entry.positions.items()}
    return _render(case, form, entry, extra, positions)


@bp.route("/<int:entry_id>/amend", methods=["GET", "POST"])
@require("case.view")
def amend(case_id: int, entry_id: int):
    once = Once.posted(current_user)
    case = _case(case_id)
    entry = _entry_or_404(case, entry_id)
    if not access.acts_on(current_user, case):
        abort(403)
    form = AmendForm()
    if form.validate_on_submit():
        try:
            once.claim()
            services.amend(entry, case, by=current_user, reason=form.reason.data, text=form.text.data)
        except DomainError as exc:
            db.session.rollback()
            add_domain_error(form, exc, "text")
        else:
            target = once.land(url_for("cases.detail", case_id=case.id, _anchor=f"entry-{entry.id}"))
            db.session.commit()
            flash(_("Amendment added."), "success")
            return redirect(target)
    return render_template("diary/amend.html", case=case, entry=entry, form=form)
