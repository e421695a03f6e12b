"""Case pages: intake (with server-side drafts), list, detail, edit and the workflow actions."""
from datetime import date

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from .. import access, labels
from ..access import require
from ..agreements import services as agreements
from ..agreements.models import Agreement, Confirmation
from ..attachments.models import Attachment
from ..attachments.services import attachments_of, may_attach
from ..attachments.views import REFUSED_UPLOAD, UploadForm
from ..diary import services as diary
from ..diary.models import EntryKind, Performance
from ..errors import DomainError
from ..extensions import db
from ..i18n import fmt_date, fmt_datetime, is_chinese
from ..leads.models import Lead, LeadStatus
from ..leads.services import mark_converted
from ..memo import prime
from ..org.models import OrgUnit
from ..org.services import tree_order
from ..paging import Key, count_bound, keyset_page
from ..parsing import ascii_int, db_id
from ..screening import services as screening
from ..screening.models import Occasion, RiskChange, SafetyPlan, Screening
from ..screening.views import LEVEL_PROMPTS, OCCASION_LABELS, PROMPTS
from ..search.export import case_list_response
from ..search.text import MAX_QUERY
from ..submissions import Once
from ..timeutil import local_today
from ..transfers import services as moves
from ..transfers.models import (
    CaseHolding,
    Delegation,
    EscalationReason,
    Referral,
    ReferralDestination,
    Transfer,
    Urgency,
)
from ..users.models import User
from . import actions as steps
from . import listing, services, workflow
from .forms import CaseForm, PartyForm
from .models import (
    FAR_DUE,
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    CaseVisibility,
    Category,
    Outcome,
    PartyRole,
    RiskLevel,
    Source,
    mask_name,
)
from .reveal import mask_ids, unmask_ids

bp = Blueprint("cases", __name__, url_prefix="/cases")


# --- the intake form -----------------------------------------------------------

def category_choices(include_id: int | None = None) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Category).where(or_(Category.active.is_(True), Category.id == (include_id or -1)))
        .order_by(Category.sort_order, Category.id)
    )
    return [(c.id, c.name_zh if is_chinese() else c.name_en) for c in rows]


def _prepare(form: CaseForm, include_category: int | None = None) -> CaseForm:
    form.category.choices = [(0, "—")] + category_choices(include_category)
    units = tree_order(db.session.scalars(access.units_query(current_user).where(OrgUnit.active.is_(True))).all())
    form.unit.choices = [(u.id, "　" * (u.tier.depth - current_user.unit.tier.depth) + u.label) for u in units]
    if not form.unit.data:
        form.unit.data = current_user.unit_id
    return form


prepare_form = _prepare  # the JSON API builds the same form


def _party_indices(formdata: MultiDict) -> list[int]:
    return sorted({n for k in formdata if k.startswith("parties-")
                   and (n := ascii_int(k.split("-")[1], 0, 999)) is not None})


def _renumber_parties(formdata: MultiDict, drop: int | None = None) -> MultiDict:
    """Number the party cards 0, 1, 2... in their order, leaving out ``drop``. Cards
    removed in the browser leave gaps, which WTForms' FieldList does not expect."""
    renumber = {old: i for i, old in enumerate(i for i in _party_indices(formdata) if i != drop)}
    out = MultiDict()
    for key, value in formdata.items(multi=True):
        parts = key.split("-", 2)
        if parts[0] == "parties" and len(parts) == 3 and ascii_int(parts[1], 0, 999) is not None:
            if int(parts[1]) not in renumber:
                continue
            key = f"parties-{renumber[int(parts[1])]}-{parts[2]}"
        out.add(key, value)
    return out


def _apply_party_buttons(formdata: MultiDict) -> tuple[MultiDict, bool]:
    """The no-JavaScript path: "add party" and "remove" are submit buttons. Returns the
    form data with the card added or removed, and whether such a button was pressed."""
    remove = formdata.get("remove_party", "")
    formdata = _renumber_parties(formdata, drop=ascii_int(remove, 0, 999))
    if "add_party" in formdata:
        formdata.add(f"parties-{len(_party_indices(formdata))}-role", PartyRole.THIRD_PARTY.value)
        formdata.pop("add_party")
        return formdata, True
    if remove:
        formdata.pop("remove_party")
        return formdata, True
    return formdata, False


def _blank_form() -> CaseForm:
    form = CaseForm(formdata=None)
    form.intake_date.data = local_today()
    form.source.data = Source.PARTY.value
    form.people_involved.data = 2
    form.parties.entries[0].form.role.data = PartyRole.APPLICANT.value
    form.parties.entries[1].form.role.data = PartyRole.RESPONDENT.value
    for entry in form.parties.entries:
        entry.form.ethnicity.data = "汉族"
    return form


def _lead_prefill(form: CaseForm, lead: Lead) -> None:
    form.source.data = Source.GRID.value
    form.referrer.data = lead.reporter.display_name  # the source already says 网格员: no "（网格员）" again
    # Who and where go to the first party's card (protected there if the case is flagged), not the summary.
    form.summary.data = "\n".join([lead.what, _("Who: %(who)s", who=lead.who)])
    if form.parties.entries:
        card = form.parties.entries[0].form
        card.address.data = card.address.data or lead.where[:200]
        card.phone.data = card.phone.data or (lead.contact_phone or "")
    form.intake_date.data = local_today()
    form.unit.data = services.default_unit(current_user, lead).id  # the lead's village (they may choose another)


def _scoped_lead(lead_id: int | None) -> Lead | None:
    """A lead of the user's area (a draft may name any id: it was typed by the browser)."""
    if lead_id is None:
        return None
    return db.session.scalar(access.scoped(select(Lead), current_user, Lead.unit_id).where(Lead.id == lead_id))


def _scoped_lead_or_404(lead_id: int) -> Lead:
    lead = _scoped_lead(lead_id)
    if lead is None:
        abort(404)
    return lead


@bp.route("/new", methods=["GET", "POST"])
@require("case.create")
def new():
    once = Once.posted(current_user)  # this form sent before (a double tap): where it landed
    lead = None
    lead_id = request.values.get("lead_id") or request.args.get("lead")
    if db_id(lead_id) is not None:
        lead = _scoped_lead_or_404(db_id(lead_id))
        if lead.status is not LeadStatus.NEW:
            once.check()  # handled by this very form, sent a moment ago: land on its case
            flash(_("This lead has already been handled."), "warning")
            return redirect(url_for("leads.index"))
    if request.method == "POST":
        formdata, rearranged = _apply_party_buttons(request.form)
        form = _prepare(CaseForm(formdata=formdata))
        if not rearranged and form.validate():
            try:
                once.claim()
                unit = db.session.scalar(access.units_query(current_user).where(OrgUnit.id == form.unit.data))
                case = services.register_case(
                    unit=unit, values=services.case_values(form),
                    parties=services.party_values(form), by=current_user, lead=lead,
                )
                if lead is not None:
                    mark_converted(lead, case, by=current_user)
                    services.discard_lead_drafts(current_user, lead.id)  # earlier tries at the same intake
                if db_id(form.draft_id.data) is not None:
                    services.discard_draft(current_user, db_id(form.draft_id.data))
            except DomainError as exc:
                db.session.rollback()
                getattr(form, exc.field or "summary").errors = [exc.message]
            else:
                target = once.land(url_for("cases.detail", case_id=case.id))
                db.session.commit()
                flash(_("Case %(number)s registered.", number=case.number), "success")
                return redirect(target)
        # (Not saved: the error summary at the top of the form says so and lists every problem.)
        # Not registered: whatever happens next (a closed tab, a lost connection), what
        # was typed is kept as a draft.
        _keep_draft(form)
    elif db_id(request.args.get("draft")) is not None:
        draft = services.get_draft_or_404(current_user, db_id(request.args["draft"]))
        data = services.unseal_draft(draft.data)
        form = _prepare(CaseForm(formdata=MultiDict([(k, v) for k, vals in data.items() for v in vals])))
        form.draft_id.data = str(draft.id)
        lead = _scoped_lead(draft.lead_id)
    else:
        form = _prepare(_blank_form())
        if lead is not None:
            _lead_prefill(form, lead)
    return render_template("cases/form.html", form=form, case=None, lead=lead)


def _keep_draft(form: CaseForm) -> None:
    draft_id = form.draft_id.data or ""
    try:
        draft = services.save_draft(current_user, request.form, db_id(draft_id))
    except DomainError:
        db.session.rollback()
        return
    db.session.commit()
    form.draft_id.data = str(draft.id)


@bp.route("/drafts/autosave", methods=["POST"])
@require("case.create")
def autosave():
    """Called by the form every few seconds and when the page is left (sendBeacon)."""
    draft_id = request.form.get("draft_id", "")
    try:
        draft = services.save_draft(current_user, request.form, db_id(draft_id))
    except DomainError as exc:
        db.session.rollback()
        return jsonify(error=exc.message), 413
    db.session.commit()
    return jsonify(id=draft.id, saved_at=fmt_datetime(draft.updated_at)[-5:])


@bp.route("/drafts/")
@require("case.create")
def drafts():
    mine = services.drafts_of(current_user)
    # A draft for a lead handled since (registered or set aside) cannot become a case: said on the
    # list, rather than on its submit after the whole form was gone through again (QA).
    lead_ids = {d.lead_id for d in mine if d.lead_id is not None}
    handled = set(db.session.scalars(select(Lead.id).where(Lead.id.in_(lead_ids), Lead.status != LeadStatus.NEW))) \
        if lead_ids else set()
    return render_template("cases/drafts.html", drafts=mine, handled=handled)


@bp.route("/drafts/<int:draft_id>/discard", methods=["POST"])
@require("case.create")
def discard(draft_id: int):
    services.get_draft_or_404(current_user, draft_id)
    services.discard_draft(current_user, draft_id)
    db.session.commit()
    flash(_("Draft discarded."), "info")
    return redirect(url_for("cases.drafts"))


# --- list ------------------------------------------------------------------------

CV = CaseVisibility
# The list orders, each walked by an index of case_visibility (see paging.Key).
LIST_KEYS = {
    "newest": Key((CV.intake_date, CV.case_id), ("date", "int"), descending=True),
    "oldest": Key((CV.intake_date, CV.case_id), ("date", "int"), descending=False),
    "number": Key((CV.year, CV.seq, CV.case_id), ("int", "int", "int"), descending=True),
    "due": Key((CV.due_key, CV.case_id), ("date", "int"), descending=False),
}
# A listed case's key in each order (the same values as its case_visibility row).
KEY_OF = {
    "newest": lambda c: (c.intake_date, c.id), "oldest": lambda c: (c.intake_date, c.id),
    "number": lambda c: (c.year, c.seq, c.id),
    "due": lambda c: (c.due_date if c.status in OPEN_STATUSES and c.due_date else FAR_DUE, c.id),
}
SORTS = {name: tuple(key.order_by()) for name, key in LIST_KEYS.items()}


def escape_like(text: str) -> str:
    """Make ``%``, ``_`` and the escape character match themselves in LIKE."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered_cases(args) -> tuple:
    """The case list query for the request's filters (``listing.filtered_cases``)."""
    return listing.filtered_cases(current_user, args)


def _sort(args) -> str:
    return args.get("sort") if args.get("sort") in LIST_KEYS else "newest"


@bp.route("/")
@require("case.view")
def index():
    """The list, a page at a time in the order of an index (``?after=`` / ``?before=`` a
    cursor); the counts per status stop at paging.count_bound()."""
    stmt, counts_stmt, unit, view = filtered_cases(request.args)
    sort = _sort(request.args)
    stmt = stmt.options(
        joinedload(Case.category), joinedload(Case.unit).joinedload(OrgUnit.parent),
        joinedload(Case.lead_mediator), selectinload(Case.parties),
    )
    # A restricted case not yet opened is on first pages only (listing), and its key is never a cursor.
    page = keyset_page(stmt, LIST_KEYS[sort], KEY_OF[sort], per_page=current_app.config["CASES_PER_PAGE"],
                       after=request.args.get("after"), before=request.args.get("before"),
                       keyable=lambda c: not access.content_hidden(c))
    statuses = list(CaseStatus)
    counts = listing.status_counts(counts_stmt)
    categories = category_choices()
    units = tree_order(db.session.scalars(access.units_query(current_user)).all())
    args = {k: v for k, v in request.args.items() if k not in ("page", "after", "before")}
    return render_template("cases/index.html", page=page, counts=counts,
                           total=sum(counts.values()) if counts is not None else None,
                           capped=counts is not None and any(n > count_bound() for n in counts.values()),
                           categories=categories, units=units if len(units) > 1 else [], unit=unit, view=view,
                           sort=sort, args=args, max_query=MAX_QUERY,
                           statuses=statuses, risks=list(RiskLevel), is_overdue=services.is_overdue)


@bp.route("/export.<any(xlsx, csv):fmt>")
@require("case.view")
def export(fmt: str):
    """The list with its current filters and order, as XLSX or CSV (search/export.py)."""
    stmt, _counts_stmt, _unit, _view = filtered_cases(request.args)
    return case_list_response(stmt.order_by(*SORTS[_sort(request.args)]), fmt, user=current_user,
                              filters={k: v for k, v in request.args.items() if k not in ("page", "after", "before")})


# --- detail, edit ---------------------------------------------------------------------

def _case_for_page(case_id: int, *, timeline: bool = True) -> Case:
    # Parties and co-mediators are short lists: joined into the case's own row (their product).
    options = [
        joinedload(Case.category), joinedload(Case.unit).joinedload(OrgUnit.parent),
        joinedload(Case.lead_mediator).lazyload(User.role_rows),
        joinedload(Case.co_mediators).lazyload(User.role_rows), joinedload(Case.parties),
        joinedload(Case.pending_transfer).options(joinedload(Transfer.to_unit), joinedload(Transfer.from_unit)),
    ]
    if timeline:
        options.append(selectinload(Case.events).joinedload(CaseEvent.actor).lazyload(User.role_rows))
    return db.first_or_404(access.cases_query(current_user).where(Case.id == case_id).options(*options))


def _group(case_id: int, *entities, options=()) -> list[list]:
    """The rows of several small tables of one case in one query: outer joins from the case,
    so as many rows as the product of their lengths (a few each); each list in id order."""
    stmt = select(*entities).select_from(Case)
    for entity in entities:
        stmt = stmt.outerjoin(entity, entity.case_id == Case.id)
    rows = db.session.execute(stmt.where(Case.id == case_id).options(*options)).unique().all()
    found = [{} for _e in entities]
    for row in rows:
        for i, obj in enumerate(row):
            if obj is not None:
                found[i][obj.id] = obj
    return [[f[k] for k in sorted(f)] for f in found]


def prefetch(case: Case, parts=("moves", "safety", "papers")) -> None:
    """The case page reads a dozen small tables of the case, through the features' services
    (``transfers_of``, ``screenings_of``, ...): fetch them in three queries and keep them for
    the request (``memo``, under the keys those services read), not one query each. The
    printouts use the same for their part ("papers": agreement and attachments)."""
    found = []
    if "moves" in parts:
        found += zip(("transfers_of", "referrals_of", "delegations_of", "holdings_of"), _group(
            case.id, Transfer, Referral, Delegation, CaseHolding, options=(
                joinedload(Transfer.to_unit), joinedload(Transfer.from_unit), joinedload(Delegation.unit),
                joinedload(CaseHolding.unit))), strict=True)
    if "safety" in parts:
        found += zip(("screenings_of", "safety_plans", "risk_changes"),
                     _group(case.id, Screening, SafetyPlan, RiskChange), strict=True)
    if "papers" in parts:
        found += zip(("agreement_of", "attachments_of"),
                     _group(case.id, Agreement, Attachment, options=(joinedload(Agreement.terms),)), strict=True)
    for key, rows in found:
        prime((key, case.id), (rows[0] if rows else None) if key == "agreement_of" else rows)


def _upload_form(case_id: int) -> tuple[UploadForm, dict]:
    """The case's upload form, and what an upload just refused sent (its entry, kind and
    description, once: ``attachments.views._refused``); the case's form is filled from it when
    it was the one used. The file itself must be chosen again."""
    form = UploadForm(formdata=None)
    refused = session.pop(REFUSED_UPLOAD, None) or {}
    if refused.get("case") != case_id:  # another case's: not shown here
        refused = {}
    if refused.get("kind") not in {value for value, _label in form.kind.choices}:
        refused["kind"] = None
    if refused and refused.get("entry") is None:
        form.kind.data = refused["kind"] or form.kind.data
        form.title.data = refused.get("title") or ""
    return form, refused


@bp.route("/<int:case_id>")
@require("case.view")
def detail(case_id: int):
    case = _case_for_page(case_id)
    prefetch(case)
    allowed = workflow.allowed(case, current_user)
    actions = [t for t in allowed if workflow.blocked_reason(case, t) is None]
    blocked = [(t, workflow.blocked_reason(case, t)) for t in allowed if t not in actions]
    entries = diary.visible_entries(current_user, case)
    agreement = agreements.agreement_of(case)

    visible_ids = {e.id for e in entries}
    attachments = [a for a in attachments_of(case) if a.entry_id is None or a.entry_id in visible_ids]
    upload_form, refused_upload = _upload_form(case.id)
    visits = [e for e in entries if e.kind is EntryKind.FOLLOW_UP and e.performance is not None]
    not_performed = bool(visits) and visits[-1].performance is Performance.NOT

    screenings = screening.screenings_of(case)
    latest = screening.latest_by_party(case, screenings)
    safety = {
        "may_screen": screening.may_screen(current_user, case), "latest": latest, "all": screenings,
        "sees_answers": screening.sees_answers(current_user, case), "plans": screening.safety_plans(case),
        "changes": screening.risk_changes(case), "level_prompts": LEVEL_PROMPTS.get(case.risk_level.value, []),
        "prompts": [PROMPTS[c] for c in screening.prompts_for(case, latest)]
        if screening.sees_answers(current_user, case) else [],
    }
    pending = case.pending_transfer
    referrals = moves.referrals_of(case)
    sessions = moves.sessions_per_tier(case)
    return render_template(
        "cases/detail.html", case=case, actions=actions, safety=safety,
        reader_only=not access.case_roles(current_user, case) and not diary.can_write(current_user, case)
        and not access.in_scope(current_user, case.unit),
        pending=pending, pending_late=pending is not None and moves.is_late(pending),
        deadline_days=current_app.config["TRANSFER_DEADLINE_DAYS"],
        advice=moves.escalation_advice(case, sessions) if access.acts_on(current_user, case) else [],
        escalate_allowed=any(t.name == "escalate" for t in actions),
        transfers=moves.transfers_of(case), referrals=referrals,
        open_referrals=[r for r in referrals if r.is_open], delegations=moves.delegations_of(case),
        tier_sessions=sorted(sessions.items(), key=lambda kv: kv[0].depth, reverse=True),
        can_edit=access.can_edit_case(current_user, case),
        overdue=services.is_overdue(case), describe=describe_change, event_label=event_label,
        transitions=workflow.TRANSITIONS, entries=entries, agreement=agreement,
        reminder=agreements.confirmation_reminder(case, agreement), plan=agreements.follow_up_plan(case, entries),
        can_edit_agreement=agreements.can_edit(current_user, case), not_performed=not_performed,
        reopen_allowed=any(t.name == "reopen" for t in actions), blocked=blocked, shown_changes=SHOWN_CHANGES,
        attachments=attachments, upload_form=upload_form, refused_upload=refused_upload,
        parties={p.id: p for p in case.parties}, can_write_diary=diary.can_write(current_user, case),
        visit_only=diary.visit_only(current_user, case),
        can_amend=diary.may_amend(current_user, case), can_attach=may_attach(current_user, case),
        can_edit_entry=lambda e: diary.can_edit(current_user, e),
    )


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@require("case.view")
def edit(case_id: int):
    case = _case_for_page(case_id)
    if not access.can_edit_case(current_user, case):
        abort(403)
    if request.method == "POST":
        formdata, rearranged = _apply_party_buttons(request.form)
        form = _prepare(CaseForm(formdata=formdata if rearranged else unmask_ids(formdata, case)), case.category_id)
        if not rearranged and form.validate():
            try:
                version = ascii_int(form.version.data) or 0  # a form without its version is stale
                services.update_case(case, values=services.case_values(form), parties=services.party_values(form),
                                     by=current_user, expected_version=version)
                db.session.commit()
            except (DomainError, StaleDataError) as exc:
                db.session.rollback()
                message = exc.message if isinstance(exc, DomainError) else services.stale_message(
                    db.session.get(Case, case_id))
                flash(message, "danger")
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("cases.detail", case_id=case.id))
        # (Not saved: the error summary at the top of the form says so and lists every problem.)
    else:
        form = _prepare(CaseForm(obj=case), case.category_id)
        form.category.data = case.category_id
        form.source.data = case.source.value
        form.risk_level.data = case.risk_level.value
        form.version.data = str(case.version)
        while len(form.parties.entries):
            form.parties.pop_entry()
        for p in case.parties:
            entry = form.parties.append_entry()
            for f in services.PARTY_FIELDS:
                value = getattr(p, f)
                entry.form[f].data = value.value if hasattr(value, "value") else value
    mask_ids(form, case)  # full ID numbers only through a logged reveal
    return render_template("cases/form.html", form=form, case=case, lead=None)


# --- workflow actions -------------------------------------------------------------------

@bp.route("/<int:case_id>/do/<name>", methods=["GET", "POST"])
@require("case.view")
def act(case_id: int, name: str):
    once = Once.posted(current_user)  # the step sent twice (a double tap): taken once
    case = _case_for_page(case_id, timeline=False)
    prefetch(case, ("moves",))  # transfers, referrals, visits, holdings: what the steps check
    t = workflow.TRANSITIONS.get(name)
    if t is None:
        abort(404)
    refused = steps.refusal(case, t, current_user)
    if refused is not None:
        once.check()  # taken by this very form a moment ago (the case was read after it committed)
        if not access.case_roles(current_user, case):
            abort(403)
        flash(refused[1], "warning")
        return redirect(url_for("cases.detail", case_id=case.id))

    step = steps.build(case, t, current_user, fill=request.method == "GET")
    form = step.form
    if request.method == "POST" and form.validate():
        try:
            once.claim()
            steps.take(case, step, current_user, version=request.form.get("version", ""))
            once.land(url_for("cases.detail", case_id=case.id))
            db.session.commit()
            if t.name == "restrict":  # restricted with a reason just now: not asked for one again
                access.mark_opened(case.id)
        except (DomainError, StaleDataError) as exc:
            db.session.rollback()
            message = exc.message if isinstance(exc, DomainError) else services.stale_message(
                db.session.get(Case, case_id))
            moved_on = db.session.get(Case, case_id)
            if request.form.get("from_detail") or moved_on.status not in t.source:
                # Decided by someone else meanwhile (e.g. the other coordinator accepted first): back to the case.
                flash(message, "danger")
                return redirect(url_for("cases.detail", case_id=case_id))
            field = getattr(exc, "field", None)
            if field and field in form:  # at its field, which the summary then names
                form[field].errors = [*form[field].errors, message]
            else:
                form.form_errors.append(message)
        else:
            flash(_("%(action)s: done.", action=t.label), "success")
            return redirect(url_for("cases.detail", case_id=case.id))
    flagged = [w for u in step.candidates for w in step.warnings.get(u.id, [])]
    return render_template("cases/act.html", case=case, t=t, form=form, warnings=flagged, hints=step.hints)


# --- timeline display ---------------------------------------------------------------------

PARTY_FIELD_NAMES = services.PARTY_FIELDS
PRINTED_DOCUMENTS = {
    "diary": _l("Print the diary"), "session_record": _l("Print the record"), "agreement": _l("Print the agreement"),
    "case_file": _l("Print the case file"), "intake": _l("Print the intake papers"),
    "diary_book": _l("Print the diary book"),
}
# Timeline details shown as "label: value" (pairs as "old → new").
SHOWN_CHANGES = ("outcome", "lead_mediator", "co_mediators", "terms", "confirmation", "parties", "party_fields",
                 "due_date", "document", "to_unit", "unit", "reason", "urgency", "destination", "destination_name",
                 "reference", "level", "risk_level", "occasion", "named_users", "named_off", "referral_result",
                 "result_date", "confidential_included", "entry_date")
FIELD_LABELS = {
    "category_id": _l("Category"), "source": _l("Source"), "referrer": _l("Referred by"),
    "intake_date": _l("Intake date"), "summary": _l("Summary of the dispute"), "claims": _l("Claims"),
    "amount_in_dispute": _l("Amount in dispute (yuan)"),
    "people_involved": _l("People involved"), "children_involved": _l("Children involved"),
    "is_major": _l("Major dispute (重大)"), "is_mass": _l("Mass dispute (群体性)"), "risk_level": _l("Risk level"),
    "dv_flag": _l("Domestic violence suspected"), "consent_to_mediate": _l("Both sides agree to mediation"),
    "rights_notice_date": _l("Notice of rights and duties given on"), "parties": _l("Parties"),
    "lead_mediator": _l("Lead mediator"), "co_mediators": _l("Co-mediators"), "outcome": _l("Outcome"),
    "number": _l("Case number"), "due_date": _l("Due date"), "terms": _l("Agreed terms"),
    "party_fields": _l("Party details changed"), "confirmation": _l("Judicial confirmation"),
    "document": _l("Document"),
    "to_unit": _l("Sent to"), "unit": _l("Holding unit"), "reason": _l("Reason"), "urgency": _l("Urgency"),
    "destination": _l("Referred to"), "destination_name": _l("Agency"), "reference": _l("Reference number"),
    "level": _l("Risk level"), "occasion": _l("Occasion"), "named_users": _l("Named users"),
    "named_off": _l("No longer named"),
    "referral_result": _l("Result"), "result_date": _l("Date of the result"),
    "confidential_included": _l("Confidential entries included"), "entry_date": _l("Diary entry of"),
}


EVENT_LABELS = {
    "created": _l("Registered"), "edited": _l("Edited"), "diary": _l("Diary entry"),
    "diary_edited": _l("Diary entry edited"), "amended": _l("Amendment"), "printed": _l("Printed"),
    "agreement": _l("Agreement recorded"), "confirmation": _l("Judicial confirmation"),
    "attached": _l("File attached"), "delegation_done": _l("Delegated visit recorded"),
    "screened": _l("Safety screening"), "safety_plan": _l("Safety plan recorded"),
}


def event_label(event: CaseEvent) -> str:
    if event.kind in EVENT_LABELS:
        return str(EVENT_LABELS[event.kind])
    t = workflow.TRANSITIONS.get(event.kind)
    return str(t.label) if t else event.kind


def describe_change(field: str, value) -> str:
    """A stored timeline value as the user reads it."""
    if value in (None, "", []):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")

    tables = {"source": (Source, labels.SOURCE_LABELS), "risk_level": (RiskLevel, labels.RISK_LABELS),
              "outcome": (Outcome, labels.OUTCOME_LABELS),
              "reason": (EscalationReason, labels.ESCALATION_REASON_LABELS),
              "urgency": (Urgency, labels.URGENCY_LABELS),
              "destination": (ReferralDestination, labels.REFERRAL_DESTINATION_LABELS),
              "level": (RiskLevel, labels.RISK_LABELS)}
    if field == "occasion":
        return str(OCCASION_LABELS[Occasion(value)])
    if field in tables:
        cls, table = tables[field]
        return str(table[cls(value)])
    if field == "category_id":
        c = db.session.get(Category, value)
        return (c.name_zh if is_chinese() else c.name_en) if c else str(value)
    if field == "party_fields":
        labels_of = {name: str(getattr(PartyForm, name).args[0]) for name in PARTY_FIELD_NAMES}
        return "；".join(f"{name}（{'、'.join(labels_of.get(f, f) for f in fields)}）" for name, fields in value)
    if field == "document":
        return str(PRINTED_DOCUMENTS.get(value, value))
    if field == "terms":
        # Each term keeps its own full stop; one that has none gets a 。 (no "。；").
        return " ".join(f"{i}. {t if str(t).endswith(('。', '；', '！', '？')) else str(t) + '。'}"
                        for i, t in enumerate(value, 1))
    if field in ("due_date", "result_date", "entry_date") and isinstance(value, str):
        try:
            return fmt_date(date.fromisoformat(value))
        except ValueError:
            return value
    if field == "confirmation":
        return str(labels.CONFIRMATION_LABELS[Confirmation(value)])
    if field == "parties":
        out = []
        for item in value:
            role, _sep, name = item.partition(":")
            out.append(f"{labels.PARTY_ROLE_LABELS[PartyRole(role)]} {name}")
        return "；".join(out)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def field_label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


@bp.app_context_processor
def _inject():
    return {"field_label": field_label}


bp.add_app_template_filter(mask_name, "mask_name")
