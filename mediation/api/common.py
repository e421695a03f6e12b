"""What every API resource shares: the flask-smorest ``Api`` (the OpenAPI 3.1 document), its
blueprints with problem+json errors, running the pages' forms on a JSON body, committing with
the audit record of the token, idempotency keys, and the JSON shape of units and cases."""
import base64
import hashlib
import json
from datetime import date, datetime, time

from flask import current_app, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api, Blueprint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from .. import access, audit
from ..cases import services as case_services
from ..cases.models import Case, PartyRole, mask_name
from ..cases.workflow import status_label
from ..errors import DomainError, UnstorableText, problem
from ..extensions import db
from ..forms import API_FORMDATA
from ..labels import TIER_LABELS
from ..leads.models import Lead
from ..leads.services import leads_query
from ..screening.services import contacts_visible
from . import idempotency
from .schemas import Problem

PREFIX = "/api/v1"
TOKEN = "api_token"  # flask.g: the ApiToken of the request


class ApiError(Exception):
    """Answer with a problem document (raised anywhere in an API view)."""

    def __init__(self, status: int, title: str, detail: str | None = None, *, errors: dict | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers, self.extra = errors, headers, extra

    def response(self):
        return problem(self.status, self.title, self.detail, errors=self.errors, headers=self.headers, **self.extra)


class MediationApi(Api):
    """flask-smorest's Api without its app-wide error handler (the pages keep their own error
    pages; the API's blueprints answer problem documents), and with the document's summaries
    and descriptions in the reader's language."""

    ERROR_SCHEMA = Problem
    DEFAULT_ERROR_RESPONSE_NAME = None  # each operation documents its problems (``documented``)

    def _register_error_handlers(self):
        return None

    def _openapi_json(self):
        return current_app.response_class(json.dumps(translated(self.spec.to_dict()), ensure_ascii=False, indent=1),
                                          mimetype="application/json")


def translated(node, key: str | None = None):
    """Summaries, descriptions and titles of the document through gettext."""
    if isinstance(node, dict):
        return {k: translated(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [translated(v) for v in node]
    if isinstance(node, str) and key in ("summary", "description", "title") and node:
        return _(node)
    return node


api = MediationApi()

COMMON_ERRORS = (400, 401, 403, 404, 422, 429)


def blueprint(name: str, description: str) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=PREFIX, description=description)
    bp.register_error_handler(ApiError, lambda e: e.response())
    bp.register_error_handler(UnstorableText, _unstorable)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(DomainError, _domain_error)
    bp.register_error_handler(StaleDataError, _stale)
    bp.register_error_handler(IntegrityError, _conflict)
    bp.before_request(_scope_first)
    return bp


def needs(action: str):
    """The action the user's roles must grant for this operation, checked before the request's
    body is (see ``_scope_first``)."""
    def decorator(fn):
        fn.api_action = action
        return fn
    return decorator


def _scope_first():
    """The role and the area before anything else, as the pages check them: a case outside the
    user's area answers 404 whatever the request carries (its body is validated only after)."""
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "api_action", None):
        require(view.api_action)
    case_id = (request.view_args or {}).get("case_id")
    if case_id is not None:
        require("case.view")
        access.get_case_or_404(case_id)
    lead_id = (request.view_args or {}).get("lead_id")
    if lead_id is not None:
        if not (access.can(current_user, "lead.view") or access.can(current_user, "lead.create")):
            require("lead.view")
        db.first_or_404(leads_query(current_user).where(Lead.id == lead_id))
    if request.method in ("POST", "PUT", "PATCH") and (request.content_length or 0) > 0 and not request.is_json:
        # A form or text body would otherwise read as empty JSON: every field "required".
        raise ApiError(415, _("Unsupported media type"),
                       _("Send the body as JSON, with the header Content-Type: application/json."))


def documented(bp: Blueprint, *codes: int):
    """Document the problem answers of an operation (and a default one for any other)."""
    def decorator(fn):
        for code in (*COMMON_ERRORS, *codes):
            fn = bp.alt_response(code, schema=Problem, content_type="application/problem+json",
                                 description=N_("A problem (RFC 9457)"))(fn)
        return bp.alt_response("default", schema=Problem, content_type="application/problem+json",
                               description=N_("A problem (RFC 9457)"))(fn)
    return decorator


def N_(text: str) -> str:
    """A document string: extracted for translation (tools/i18n.py), translated when served."""
    return text


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow/webargs messages ({"json": {"parties": {0: {"name": [...]}}}}) as a field map."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, list | tuple):
        for m in messages:
            if isinstance(m, dict | list | tuple):
                for k, v in _flatten(m, prefix).items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix or "_", []).append(_(str(m)))  # a Msg not formatted yet: translated here
    else:
        out.setdefault(prefix or "_", []).append(str(messages))
    return out


LOCATIONS = ("json", "query", "headers", "path", "form")


def _http_error(e: HTTPException):
    db.session.rollback()
    data = getattr(e, "data", None) or {}
    if "messages" in data:  # a request that does not fit its schema (webargs)
        messages = data["messages"]
        if isinstance(messages, dict) and set(messages) <= set(LOCATIONS):
            merged: dict = {}
            for part in messages.values():
                for k, v in _flatten(part).items():
                    merged.setdefault(k, []).extend(v)
        else:
            merged = _flatten(messages)
        code = e.code or 422
        title = _("The request is not valid") if code == 422 else _("Bad request")
        if set(merged) == {"_"}:  # about the body as a whole (not JSON): no field to name
            return problem(code, title, " ".join(str(m) for m in merged["_"]), errors=merged)
        return problem(code, title, _("Correct the fields named in “errors” and send it again."), errors=merged)
    titles = {400: _("Bad request"), 401: _("Not authenticated"), 403: _("No permission"), 404: _("Not found"),
              405: _("Not allowed"), 409: _("Conflict"), 412: _("Changed meanwhile"), 413: _("Too large"),
              415: _("Unsupported media type"), 428: _("Precondition required"), 429: _("Too many requests")}
    code = e.code or 500
    detail = {400: _("The request could not be read: send the body as valid JSON, nested at most a few hundred "
                     "levels deep.") if request.content_length else None,
              404: _("This page does not exist, or it is outside your area."),
              403: _("Your account may not open this page."),
              405: _("This action cannot be done this way.")}.get(code)
    return problem(code, titles.get(code, e.name), detail)


def _unstorable(_e):
    db.session.rollback()
    return problem(400, _("Characters that cannot be saved"),
                   _("What was sent contains a character that cannot be saved (a NUL or a broken character, "
                     "usually from text pasted out of another program). Nothing was saved."))


def _domain_error(e: DomainError):
    db.session.rollback()
    if isinstance(e, case_services.StaleCase):
        return problem(412, _("Changed meanwhile"), e.message)
    return problem(422, _("Refused"), e.message, errors={e.field: [e.message]} if e.field else None)


def _stale(_e):
    db.session.rollback()
    return problem(412, _("Changed meanwhile"), _("Someone saved this record meanwhile; read it again and repeat "
                                                 "your change."))


def _conflict(_e):
    db.session.rollback()
    return problem(409, _("Conflict"), _("Someone else did the same at the same moment; read it again."))


# --- forms on JSON -------------------------------------------------------------------------------

def _plain(value) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def to_formdata(data: dict) -> MultiDict:
    """A JSON body as the pages' form fields: lists of objects as ``parties-0-name``, lists
    as repeated fields, true as a ticked box, false and null as absent."""
    out = MultiDict()

    def add(key: str, value):
        if value is None or value is False:
            return
        if value is True:
            out.add(key, "y")
        elif isinstance(value, dict):
            for k, v in value.items():
                add(f"{key}-{k}", v)
        elif isinstance(value, list | tuple):
            if value and all(isinstance(v, dict) for v in value):
                for i, v in enumerate(value):
                    add(f"{key}-{i}", v)
            else:
                for v in value:
                    if v is not None:
                        out.add(key, _plain(v))
        else:
            out.add(key, _plain(value))

    for k, v in data.items():
        add(k, v)
    return out


def use_form_data(data: dict) -> None:
    """Forms made from now on in this request read ``data`` (the pages' forms, see AppForm)."""
    setattr(g, API_FORMDATA, to_formdata(data))


def form_errors(form) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}

    def walk(errors, prefix):
        if isinstance(errors, dict):
            for k, v in errors.items():
                walk(v, f"{prefix}.{k}" if prefix and k is not None else (prefix or str(k)))
        elif isinstance(errors, list | tuple):
            for i, v in enumerate(errors):
                if isinstance(v, dict):
                    walk(v, f"{prefix}.{i}")
                elif isinstance(v, list | tuple):
                    walk(v, prefix)
                else:
                    out.setdefault(prefix or "_", []).append(str(v))

    walk({k: v for k, v in form.errors.items() if k is not None}, "")
    for message in getattr(form, "form_errors", []) or []:
        out.setdefault("_", []).append(str(message))
    return out


def run_form(form) -> None:
    """:raise ApiError: 422 with the form's field messages when the pages' form refuses the data."""
    if not form.validate():
        raise ApiError(422, _("The request is not valid"), _("Correct the fields named in “errors” and send it again."),
                       errors=form_errors(form))


# --- committing ----------------------------------------------------------------------------------

def commit(target=None, **details) -> None:
    """Commit an API write, with its audit record naming the token."""
    token = g.get(TOKEN)
    audit.record("api.write", target=target, details={"method": request.method, "path": request.path[:200],
                                                      **({"number": target.number} if isinstance(target, Case)
                                                         else {}), **details})
    if token is not None:
        token_key = idempotency.pending_key()
        if token_key is not None:
            idempotency.store(token, token_key)
    db.session.commit()


def version_from_header(required: bool = True) -> str | None:
    """The version in ``If-Match`` ("3", W/"3" or 3). None when absent and not required.

    :raise ApiError: 428 when required and absent."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw:
        if required:
            raise ApiError(428, _("Precondition required"),
                           _("Send If-Match with the version you read (the ETag of the case)."))
        return None
    raw = raw.removeprefix("W/").strip().strip('"')
    return raw


def etag(version: int) -> str:
    return f'"{version}"'


# --- shapes --------------------------------------------------------------------------------------

def unit_ref(unit) -> dict:
    return {"code": unit.code, "name": unit.name, "tier": unit.tier}


def unit_path(unit) -> dict | None:
    if unit is None:
        return None
    return {**unit_ref(unit), "label": unit.label, "tier_label": str(TIER_LABELS[unit.tier]),
            "path": [unit_ref(u) for u in [*unit.ancestors(), unit]]}


def user_ref(user) -> dict | None:
    return None if user is None else {"id": user.id, "username": user.username, "display_name": user.display_name}


def links(case) -> dict:
    base = f"{PREFIX}/cases/{case.id}"
    return {"self": base, "diary": f"{base}/diary", "agreement": f"{base}/agreement",
            "screenings": f"{base}/screenings", "transfers": f"{base}/transfers",
            "transitions": f"{base}/transitions", "export": f"{base}/export",
            "pdfs": {name: f"{base}/pdf/{name}" for name in ("diary", "file", "intake", "agreement")}}


def case_summary(case) -> dict:
    out = {"id": case.id, "number": case.number, "status": case.status, "status_label": status_label(case.status),
           "unit": unit_path(case.unit), "restricted": bool(case.restricted),
           "content_hidden": access.content_hidden(case), "version": case.version}
    if out["content_hidden"]:
        return out
    out.update({
        "category": case.category.code, "source": case.source, "intake_date": case.intake_date,
        "risk_level": case.risk_level, "outcome": case.outcome, "due_date": case.due_date,
        "overdue": case_services.is_overdue(case),
        "parties": [mask_name(p.name) for p in case.parties if p.role in (PartyRole.APPLICANT, PartyRole.RESPONDENT)],
    })
    return out


def party_json(case, party, user) -> dict:
    shown = contacts_visible(user, case, party)
    return {"id": party.id, "role": party.role, "name": party.name, "sex": party.sex, "ethnicity": party.ethnicity,
            "birth_date": party.birth_date, "occupation": party.occupation, "id_number": party.id_masked,
            "phone": party.phone if shown else None, "address": party.address if shown else None,
            "contacts_protected": not shown, "relationship": party.relationship, "is_minor": party.is_minor}


def case_json(case, imported=None) -> dict:
    user = current_user
    out = case_summary(case)
    if out["content_hidden"]:
        return out
    out.update({
        "origin_unit": unit_path(case.origin_unit), "referrer": case.referrer, "summary": case.summary,
        "claims": case.claims, "amount_in_dispute": case.amount_in_dispute, "people_involved": case.people_involved,
        "children_involved": case.children_involved, "is_major": case.is_major, "is_mass": case.is_mass,
        "dv_flag": case.dv_flag, "consent_to_mediate": case.consent_to_mediate,
        "rights_notice_date": case.rights_notice_date, "decline_reason": case.decline_reason,
        "lead_mediator": user_ref(case.lead_mediator), "co_mediators": [user_ref(u) for u in case.co_mediators],
        "parties": [party_json(case, p, user) for p in case.parties],
        "accepted_at": case.accepted_at, "concluded_at": case.concluded_at, "closed_at": case.closed_at,
        "archived_at": case.archived_at, "created_at": case.created_at, "updated_at": case.updated_at,
        "updated_by": user_ref(case.updated_by), "links": links(case),
        "imported_from": imported,
    })
    return out


def case_or_404(case_id: int, *, content: bool = True) -> Case:
    """The case through the access rule (404 out of scope, as the pages). ``content``: a
    restricted case not yet opened through this token answers 403, saying how to open it."""
    case = access.get_case_or_404(case_id)
    if content and access.content_hidden(case):
        raise ApiError(403, _("Restricted case"), _("This case is restricted: open it first with a reason "
                                                    "(POST %(url)s), which is recorded in the audit log.",
                                                    url=f"{PREFIX}/cases/{case.id}/open"))
    return case


def require(action: str) -> None:
    """:raise ApiError: 403 when none of the user's roles grants ``action`` (as ``access.require``)."""
    if not access.can(current_user, action):
        raise ApiError(403, _("No permission"), _("Your account may not open this page."))


# --- cursors -------------------------------------------------------------------------------------

def encode_cursor(values: list) -> str:
    raw = json.dumps([_plain(v) if not isinstance(v, int | None) else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, kinds: tuple) -> list:
    """:raise ApiError: 400 when the cursor is not one this API gave."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError(raw)
        return [kind(v) for kind, v in zip(kinds, raw, strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, _("Bad request"), _("The cursor is not valid: use next_cursor as it was given."),
                       errors={"cursor": [_("The cursor is not valid: use next_cursor as it was given.")]}) from None


def request_hash() -> str:
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n"
                          + request.get_data(cache=True)).hexdigest()


def location(endpoint: str, **values) -> str:
    return url_for(endpoint, **values, _external=False)
