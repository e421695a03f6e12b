"""Cases: the list (the page's filters and search, by cursor), registration with parties, the
record, its edit (If-Match on the version), the workflow's steps, opening a restricted case,
revealing an ID number, the PDFs, and the exchange format (export and import)."""
from datetime import date
from functools import wraps

from flask import current_app, g, make_response, request, session
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import access, audit
from ..agreements.services import agreement_of, follow_up_plan
from ..attachments.services import attachments_of
from ..cases import actions as steps
from ..cases import listing, services, workflow
from ..cases.forms import CaseForm
from ..cases.models import Case, CaseEvent, Category, Party
from ..cases.restricted import OpenForm
from ..cases.reveal import RevealForm, unmask_ids
from ..cases.views import prepare_form
from ..diary import services as diary
from ..extensions import db
from ..leads.models import Lead, LeadStatus
from ..leads.services import mark_converted
from ..org.models import OrgUnit
from ..printing import views as printing
from ..transfers import services as moves
from . import exchange, idempotency, tokens
from . import schemas as s
from .common import (
    PREFIX,
    TOKEN,
    ApiError,
    blueprint,
    case_json,
    case_or_404,
    case_summary,
    commit,
    decode_cursor,
    documented,
    encode_cursor,
    etag,
    needs,
    request_hash,
    require,
    run_form,
    use_form_data,
    version_from_header,
)
from .records import agreement_json, delegation_json, entry_json, referral_json, transfer_json

bp = blueprint("api-cases", "Cases: list, register, read, edit, workflow steps, exchange")

IDEMPOTENCY_HEADER = {"in": "header", "name": "Idempotency-Key", "required": False,
                      "schema": {"type": "string", "maxLength": 200},
                      "description": "the same key again answers the first response instead of creating twice"}
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "the version read (the ETag of GET /cases/{case_id})"}


def idempotent(view):
    """Honour ``Idempotency-Key`` on a creating request (see ``idempotency``)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        key = (request.headers.get("Idempotency-Key") or "").strip()
        token = g.get(TOKEN)
        if not key or token is None:
            return view(*args, **kwargs)
        if len(key) > idempotency.KEY_MAX or not key.isprintable():
            raise ApiError(400, _("Bad request"), _("The Idempotency-Key is at most 200 printable characters."))
        seen = idempotency.find(token, key)
        if seen is not None:
            if seen.request_hash != request_hash():
                raise ApiError(422, _("The request is not valid"),
                               _("This Idempotency-Key was used for another request."))
            if seen.status_code == 0:
                raise ApiError(409, _("Conflict"), _("The first request with this Idempotency-Key is still being "
                                                     "handled or was interrupted; read the resource it created."),
                               headers={"Location": seen.location} if seen.location else None)
            body = seen.response.get("body", seen.response) if set(seen.response) == {"body"} else seen.response
            response = current_app.response_class(current_app.json.dumps(body), status=seen.status_code,
                                                  mimetype="application/json")
            response.headers["Idempotent-Replayed"] = "true"
            if seen.location:
                response.headers["Location"] = seen.location
            return response
        idempotency.begin(key, request_hash())
        response = view(*args, **kwargs)
        if 200 <= response.status_code < 300:
            idempotency.finish(token, key, response.status_code, response.get_json(silent=True) or {},
                               response.headers.get("Location", ""))
        return response
    return wrapped


# --- list -------------------------------------------------------------------------------------------

SORTS = {
    "newest": ((Case.intake_date, Case.id), "desc", (date.fromisoformat, int)),
    "oldest": ((Case.intake_date, Case.id), "asc", (date.fromisoformat, int)),
    "number": ((Case.year, Case.seq), "desc", (int, int)),
}


def _keyset(cols, direction: str, values):
    """Rows after the cursor row, for an order on two columns."""
    a, b = cols
    va, vb = values
    if direction == "desc":
        return or_(a < va, and_(a == va, b < vb))
    return or_(a > va, and_(a == va, b > vb))


@bp.route("/cases")
@needs("case.view")
@bp.arguments(s.CaseListQuery, location="query", as_kwargs=True)
@bp.response(200, s.CaseList)
@documented(bp)
def case_list(**args):
    """Cases the token user may see, with the case list page's filters and search; by cursor
    (``next_cursor``), at most 100 at a time. A restricted case not yet opened through this token
    shows its number and unit only."""
    require("case.view")
    filters = {k: v for k, v in args.items() if k not in ("limit", "sort", "category", "from_")}
    filters = {k: (v.value if hasattr(v, "value") else v) for k, v in filters.items() if v not in (None, False)}
    if args.get("from_"):
        filters["from"] = args["from_"]
    if args.get("category"):
        category = db.session.scalar(select(Category).where(Category.code == args["category"]))
        filters["category"] = str(category.id) if category else "0"
    stmt, counts_stmt, _unit, _view = listing.filtered_cases(current_user, filters)
    cols, direction, kinds = SORTS[args.get("sort") or "newest"]
    if args.get("cursor"):  # (restricted cases not yet opened are on first pages only: listing)
        stmt = stmt.where(_keyset(cols, direction, decode_cursor(args["cursor"], kinds)))
    order = [c.desc() for c in cols] if direction == "desc" else [c.asc() for c in cols]
    limit = args.get("limit") or current_app.config["API_PAGE_SIZE"]
    rows = db.session.scalars(stmt.options(
        joinedload(Case.category), joinedload(Case.unit).joinedload(OrgUnit.parent), selectinload(Case.parties))
        .order_by(*order).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    # Never the key of a restricted case not yet opened (it would tell its intake date): the next
    # page (which leaves them out) starts after the last row that may show, or from the top.
    top = [(date.max if direction == "desc" else date.min) if kind is date.fromisoformat
           else (2**62 if direction == "desc" else 0) for kind in kinds]
    last = next(([getattr(r, c.key) for c in cols] for r in reversed(rows) if not access.content_hidden(r)), top)
    next_cursor = encode_cursor(last) if more and rows else None
    counted = listing.status_counts(counts_stmt) if not args.get("cursor") else None  # None: a common search
    counts = {k.value: v for k, v in counted.items() if v} if counted is not None else {}
    return {"items": [case_summary(c) for c in rows], "counts": counts, "next_cursor": next_cursor}


# --- registration ------------------------------------------------------------------------------------

def _case_fields(data: dict, *, unit_id: int | None, category_id: int | None) -> dict:
    """The API's case fields as the intake form's fields."""
    out = {k: v for k, v in data.items() if k not in ("unit", "lead", "category", "parties")}
    out = {k: (v.value if hasattr(v, "value") else v) for k, v in out.items()}
    out.setdefault("people_involved", 2)
    out.setdefault("risk_level", "none")
    if unit_id is not None:
        out["unit"] = unit_id
    if category_id is not None or "category" in data:
        out["category"] = category_id if category_id is not None else 0
    if "parties" in data:
        out["parties"] = [{k: (v.value if hasattr(v, "value") else v) for k, v in p.items()} for p in data["parties"]]
        for p in out["parties"]:
            p.setdefault("ethnicity", "")
    return out


def _category_id(code: str | None) -> int:
    category = db.session.scalar(select(Category).where(Category.code == (code or "")))
    return category.id if category is not None else 0


@bp.route("/cases", methods=["POST"])
@needs("case.create")
@idempotent
@bp.arguments(s.CaseCreate)
@bp.response(201, s.CaseOut)
@bp.doc(parameters=[IDEMPOTENCY_HEADER])
@documented(bp, 409)
def case_create(data):
    """Register a case with its parties (the intake form's rules: at least an applicant and a
    respondent, ID numbers with their check digit, phones, dates not in the future)"""
    require("case.create")
    lead = None
    if data.get("lead") is not None:
        lead = db.session.scalar(access.scoped(select(Lead), current_user, Lead.unit_id)
                                 .where(Lead.id == data["lead"]))
        if lead is None:
            raise ApiError(404, _("Not found"), _("This page does not exist, or it is outside your area."))
        if lead.status is not LeadStatus.NEW:
            raise ApiError(409, _("Conflict"), _("This lead has already been handled."))
    unit = services.default_unit(current_user, lead)
    if data.get("unit"):
        unit = db.session.scalar(access.units_query(current_user).where(OrgUnit.code == data["unit"]))
        if unit is None:
            raise ApiError(422, _("The request is not valid"), errors={"unit": [_("Choose a unit of your area.")]})
    use_form_data(_case_fields(data, unit_id=unit.id, category_id=_category_id(data.get("category"))))
    form = prepare_form(CaseForm())
    run_form(form)
    case = services.register_case(unit=unit, values=services.case_values(form), parties=services.party_values(form),
                                  by=current_user, lead=lead)
    if lead is not None:
        mark_converted(lead, case, by=current_user)
    commit(target=case)
    return case_json(case), 201, {"Location": f"{PREFIX}/cases/{case.id}", "ETag": etag(case.version)}


# --- one case ------------------------------------------------------------------------------------------

def _imported(case) -> dict | None:
    row = exchange.import_of(case)
    if row is None:
        return None
    return {"source_system": row.source_system, "external_reference": row.external_reference,
            "imported_at": row.imported_at.isoformat(timespec="seconds") + "Z"}


@bp.route("/cases/<int:case_id>")
@bp.response(200, s.CaseOut, headers={"ETag": {"schema": {"type": "string"}}})
@documented(bp)
def case_detail(case_id: int):
    """One case: parties (ID numbers masked, protected contacts withheld), unit and tier path,
    mediators and links to its records and PDFs; the ETag is its version"""
    require("case.view")
    case = case_or_404(case_id)
    return case_json(case, _imported(case)), 200, {"ETag": etag(case.version)}


def _current_fields(case) -> dict:
    """The case as the edit form shows it (ID numbers masked)."""
    out = {f: getattr(case, f) for f in services.CASE_FIELDS if f != "category_id"}
    out["category"] = case.category_id
    out["unit"] = case.unit_id
    out["parties"] = [{f: getattr(p, f) for f in services.PARTY_FIELDS} for p in case.parties]
    for p, row in zip(out["parties"], case.parties, strict=True):
        p["id_number"] = row.id_masked
    return {k: (v.value if hasattr(v, "value") else v) for k, v in out.items()} | {
        "parties": [{k: (v.value if hasattr(v, "value") else v) for k, v in p.items()} for p in out["parties"]]}


@bp.route("/cases/<int:case_id>", methods=["PATCH"])
@bp.arguments(s.CaseUpdate)
@bp.response(200, s.CaseOut, headers={"ETag": {"schema": {"type": "string"}}})
@bp.doc(parameters=[IF_MATCH])
@documented(bp, 412, 428)
def case_update(data, case_id: int):
    """Change a case's record (the fields sent; ``parties``, when sent, is the whole list).
    If-Match must carry the version read: 412 when someone saved it meanwhile. Every change is
    on the case's timeline with the old and new values."""
    require("case.view")
    case = case_or_404(case_id)
    if not access.can_edit_case(current_user, case):
        raise ApiError(403, _("No permission"), _("Your account may not open this page."))
    version = version_from_header(required=True)
    if version != str(case.version):
        raise ApiError(412, _("Changed meanwhile"), services.stale_message(case))
    fields = _current_fields(case)
    fields.update(_case_fields(data, unit_id=None, category_id=_category_id(data["category"])
                               if "category" in data else None))
    fields["unit"] = case.unit_id
    use_form_data(fields)
    g.api_formdata = unmask_ids(g.api_formdata, case)  # a masked number sent back keeps the stored one
    form = prepare_form(CaseForm(), case.category_id)
    run_form(form)
    services.update_case(case, values=services.case_values(form), parties=services.party_values(form),
                         by=current_user, expected_version=int(version))
    commit(target=case)
    return case_json(case, _imported(case)), 200, {"ETag": etag(case.version)}


# --- workflow steps ------------------------------------------------------------------------------------

@bp.route("/cases/<int:case_id>/transitions")
@bp.response(200, s.TransitionList)
@documented(bp)
def transition_list(case_id: int):
    """The steps the token user may take on the case now, what each asks for, and why one
    that is offered cannot be taken yet"""
    require("case.view")
    case = case_or_404(case_id)
    items = [{"name": t.name, "label": str(t.label), "needs": list(t.needs),
              "blocked": workflow.blocked_reason(case, t), "confirm": str(t.confirm) if t.confirm else None}
             for t in workflow.allowed(case, current_user)]
    return {"items": items, "version": case.version}


def _step_fields(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if key == "version":
            continue
        if key == "to_unit":
            value = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == value)) or 0
        out[key] = value.value if hasattr(value, "value") else value
    return out


def event_json(event: CaseEvent) -> dict:
    return {"id": event.id, "kind": event.kind, "at": event.at, "actor": event.actor.display_name if event.actor
            else None, "from_status": event.from_status, "to_status": event.to_status}


@bp.route("/cases/<int:case_id>/transitions/<name>", methods=["POST"])
@bp.arguments(s.TransitionIn)
@bp.response(200, s.TransitionResult)
@documented(bp, 409, 412)
def transition_take(data, case_id: int, name: str):
    """Take a workflow step (accept, assign, start, conclude, escalate, receive, refer, ...),
    with the same guards and messages as the case page. Send the fields the step needs
    (GET .../transitions); If-Match or ``version``, when sent, must be the case's version."""
    require("case.view")
    case = case_or_404(case_id)
    t = workflow.TRANSITIONS.get(name)
    if t is None:
        raise ApiError(404, _("Not found"), _("Unknown action."))
    refused = steps.refusal(case, t, current_user)
    if refused is not None:
        raise ApiError(refused[0], _("No permission") if refused[0] == 403 else _("Conflict"), refused[1],
                       transition=t.name)
    version = version_from_header(required=False)
    if version is None and data.get("version") is not None:
        version = str(data["version"])
    use_form_data(_step_fields(data))
    step = steps.build(case, t, current_user)
    run_form(step.form)
    event = steps.take(case, step, current_user, version=version)
    commit(target=case, transition=t.name)
    return {"case": case_json(case, _imported(case)), "event": event_json(event)}, 200, {"ETag": etag(case.version)}


# --- restricted cases and ID numbers -------------------------------------------------------------------

@bp.route("/cases/<int:case_id>/open", methods=["POST"])
@bp.arguments(s.Reason)
@bp.response(200, s.CaseOut)
@documented(bp)
def case_open(data, case_id: int):
    """Open a restricted case with a reason (recorded in the audit log with the token's name);
    it stays open for this token as long as a login would"""
    require("case.view")
    case = case_or_404(case_id, content=False)
    use_form_data(data)
    form = OpenForm()
    run_form(form)
    if case.restricted:
        audit.record("case.open_restricted", target=case, details={"number": case.number,
                                                                    "reason": form.reason.data.strip()})
        tokens.remember_opened(g.get(TOKEN), case.id)
        session[access.OPENED_RESTRICTED] = [*session.get(access.OPENED_RESTRICTED, []), case.id]
    commit(target=case)
    return case_json(case, _imported(case))


@bp.route("/cases/<int:case_id>/parties/<int:party_id>/id-number", methods=["POST"])
@bp.arguments(s.Reason)
@bp.response(200, s.Revealed)
@documented(bp)
def reveal(data, case_id: int, party_id: int):
    """A party's full ID number, for a stated reason (in the audit log with the token's name)"""
    require("case.view")
    case = case_or_404(case_id)
    party = db.session.get(Party, party_id)
    if party is None or party.case_id != case.id or not party.id_number:
        raise ApiError(404, _("Not found"), _("This page does not exist, or it is outside your area."))
    use_form_data(data)
    form = RevealForm()
    run_form(form)
    audit.record("reveal", target=party, details={"case": case.id, "number": case.number, "field": "id_number",
                                                  "reason": form.reason.data.strip()})
    commit(target=case)
    return {"party": party.id, "id_number": party.id_number}, 200, {"Cache-Control": "no-store"}


# --- PDFs ----------------------------------------------------------------------------------------------

PDFS = {"diary": printing.diary_pdf, "file": printing.case_file_pdf, "intake": printing.intake_pdf,
        "agreement": printing.agreement_pdf}
PDF_RESPONSE = {"schema": {"type": "string", "format": "binary"}}


@bp.route("/cases/<int:case_id>/pdf/<name>")
@bp.response(200, PDF_RESPONSE, content_type="application/pdf")
@documented(bp)
def case_pdf(case_id: int, name: str):
    """A PDF of the case, as the case page prints it: diary, file (the case file), intake or
    agreement; ``?confidential=1`` adds confidential entries for the case's mediators. Every
    print is on the case's timeline."""
    require("case.view")
    case_or_404(case_id)
    if name not in PDFS:
        raise ApiError(404, _("Not found"), _("This page does not exist, or it is outside your area."))
    return make_response(PDFS[name](case_id=case_id))


@bp.route("/cases/<int:case_id>/diary/<int:entry_id>/pdf")
@bp.response(200, PDF_RESPONSE, content_type="application/pdf")
@documented(bp)
def entry_pdf(case_id: int, entry_id: int):
    """The record of one diary entry, as printed from the case page"""
    require("case.view")
    case_or_404(case_id)
    return make_response(printing.record_pdf(case_id=case_id, entry_id=entry_id))


# --- the exchange format -------------------------------------------------------------------------------

def export_document(case) -> dict:
    user = current_user
    entries = diary.visible_entries(user, case)
    agreement = agreement_of(case)
    visible = {e.id for e in entries}
    files = [a for a in attachments_of(case) if a.entry_id is None or a.entry_id in visible]
    return {
        "format": exchange.FORMAT, "exported_at": exchange.now_iso(), "source_system": exchange.system_name(),
        "case": case_json(case, _imported(case)),
        "diary": [entry_json(case, e) for e in entries],
        "agreement": agreement_json(case, agreement) if agreement else None,
        "follow_ups": [{"days": p["days"], "due": p["due"], "done": p["done"], "overdue": p["overdue"]}
                       for p in follow_up_plan(case, entries)],
        "transfers": [transfer_json(t) for t in moves.transfers_of(case)],
        "referrals": [referral_json(r) for r in moves.referrals_of(case)],
        "delegations": [delegation_json(d) for d in moves.delegations_of(case)],
        "attachments": [{"id": a.id, "kind": a.kind.value, "title": a.title, "filename": a.filename,
                         "content_type": a.content_type, "size": a.size, "entry_id": a.entry_id,
                         "uploaded_at": a.created_at} for a in files],
    }


@bp.route("/cases/<int:case_id>/export")
@bp.response(200, s.ExchangeOut)
@documented(bp)
def case_export(case_id: int):
    """The whole case in the exchange format (``mediation-case/1``): the record with its parties,
    the diary, the agreement, the follow-up plan, transfers, referrals, delegated visits and the
    list of attachments, with the pages' masking. Recorded in the audit log."""
    require("case.view")
    case = case_or_404(case_id)
    document = export_document(case)
    audit.record("export", target=case, details={"what": "case_exchange", "number": case.number, "format": "json"})
    db.session.commit()
    return document


@bp.route("/cases/import", methods=["POST"])
@needs("case.create")
@idempotent
@bp.arguments(s.ExchangeIn)
@bp.response(201, s.CaseOut)
@bp.doc(parameters=[IDEMPOTENCY_HEADER])
@documented(bp, 409)
def case_import(data):
    """Take in a case handed down by a court or the provincial platform, in the exchange
    format: it is registered here (new number) with its parties, under the token user's unit or
    ``unit``; where it came from is recorded, and the sender's history is kept with it."""
    require("case.create")
    record = data["case"]
    unit = current_user.unit
    if data.get("unit"):
        unit = db.session.scalar(access.units_query(current_user).where(OrgUnit.code == data["unit"]))
        if unit is None:
            raise ApiError(422, _("The request is not valid"), errors={"unit": [_("Choose a unit of your area.")]})
    parties = [{k: v for k, v in p.items() if v is not None} for p in record.get("parties", [])]
    for p in parties:  # a masked number cannot be stored: it is left out
        if "*" in (p.get("id_number") or ""):
            p["id_number"] = ""
    fields = _case_fields({**{k: v for k, v in record.items() if k != "parties"}, "parties": parties},
                          unit_id=unit.id, category_id=_category_id(record.get("category")))
    use_form_data(fields)
    form = prepare_form(CaseForm())
    run_form(form)
    case = services.register_case(unit=unit, values=services.case_values(form), parties=services.party_values(form),
                                  by=current_user)
    exchange.record_import(case, source_system=data["source_system"],
                           external_reference=data.get("external_reference") or record.get("number") or "",
                           by=current_user, token_name=g.get(TOKEN).name if g.get(TOKEN) else "",
                           history={k: data.get(k) for k in exchange.HISTORY if data.get(k)})
    commit(target=case, source_system=data["source_system"])
    return case_json(case, _imported(case)), 201, {"Location": f"{PREFIX}/cases/{case.id}",
                                                   "ETag": etag(case.version)}

