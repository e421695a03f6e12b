"""Plugging the API into an app, and its reference page.

``/api/v1/openapi.json`` is the OpenAPI 3.1 document flask-smorest generates from the schemas
that validate the requests and shape the responses; ``/api/v1/docs`` is a readable reference
made from that document on the server (no script, no CDN: it works on a closed network)."""
from flask import Blueprint, current_app, render_template

from ..extensions import csrf
from . import account, auth, outbox
from .cases import bp as cases_bp
from .common import N_, PREFIX, MediationApi, translated
from .records import bp as records_bp
from .resources import bp as account_api_bp
from .resources import leads_bp, stats_bp, units_bp

bp = Blueprint("api_docs", __name__, url_prefix=PREFIX)
BLUEPRINTS = (account_api_bp, units_bp, cases_bp, records_bp, leads_bp, stats_bp)
API_EXTENSION = "mediation-api"

DESCRIPTION = N_(
    "The JSON API of the mediation system, for the provincial platform, the courts, the hotline and "
    "phone apps. Authenticate every request with a personal token (Authorization: Bearer <token>), "
    "made on the account's “API tokens” page or with `flask api token create`. A token acts exactly "
    "as its account: the same area (anything outside it answers 404), roles, restricted cases and "
    "audit log. Errors are RFC 9457 problem documents in the reader's language (Accept-Language).")


def init_app(app) -> None:
    app.config.setdefault("API_TITLE", "mediation")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = MediationApi(app, spec_kwargs={
        "info": {"description": DESCRIPTION},
        "security": [{"bearer": []}],
    })
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                                   "description": N_("A personal API token")})
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer tokens only: no cookie, nothing for a forged form to ride on
    app.extensions[API_EXTENSION] = api
    app.register_blueprint(bp)
    app.register_blueprint(account.bp)
    auth.init_app(app)
    outbox.init_app(app)


def spec() -> dict:
    """The OpenAPI document, translated into the reader's language."""
    return translated(current_app.extensions[API_EXTENSION].spec.to_dict())


def _ref_name(schema: dict | None) -> str | None:
    ref = (schema or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


@bp.route("/docs")
def reference():
    doc = spec()
    operations = []
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            responses = []
            for code, resp in op.get("responses", {}).items():
                content = resp.get("content") or {}
                kind, schema = next(iter(content.items()), (None, {}))
                responses.append({"code": code, "description": resp.get("description", ""), "type": kind,
                                  "schema": _ref_name(schema)})
            operations.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                               "description": op.get("description", ""), "tag": (op.get("tags") or [""])[0],
                               "parameters": op.get("parameters", []) + item.get("parameters", []),
                               "body": _ref_name(body), "responses": responses,
                               "anchor": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "")})
    tags = [t["name"] for t in doc.get("tags", [])]
    return render_template("api/reference.html", doc=doc, operations=operations, tags=tags,
                           schemas=doc.get("components", {}).get("schemas", {}))
