"""Related cases on the intake form (a small JSON endpoint app.js calls while the
parties are typed, and a notice after registering) and on the case page (a section)."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from .. import access
from ..access import can, require
from ..cases.models import Case
from ..extensions import db
from ..parsing import ascii_int, db_id
from ..users import services as users
from .services import MAX_PARTIES, related_cases, related_to_case

bp = Blueprint("related", __name__, url_prefix="/related")


@bp.route("/check", methods=["POST"])
@require("case.view")
def check():
    """{"parties": [{name, birth_date, phone, id_number}, …], "exclude": case id} ->
    {"related": [...], "html": the notice}. A case outside the user's access is
    announced by its holding unit only (see services)."""
    # Each check tells whether a person is in any case of the network (by unit when out of
    # reach): a user's checks are counted, so that the form's typing passes and a crawl does not.
    if users.count_failure("r", f"user:{current_user.id}") > current_app.config["RELATED_CHECKS_PER_WINDOW"]:
        minutes = current_app.config["LOGIN_WINDOW_MINUTES"]
        return jsonify({"error": _("Too many checks. Please wait %(minutes)d minutes and try again.",
                                   minutes=minutes)}), 429, {"Retry-After": str(minutes * 60)}
    data = request.get_json(silent=True)
    if data is None:  # a form post (FormData): parties-N-field as on the intake form
        data = {"parties": _parties_from_form(request.form), "exclude": request.form.get("exclude")}
    parties = data.get("parties") if isinstance(data, dict) else None
    if not isinstance(parties, list):
        return jsonify({"error": _("No parties given.")}), 400
    parties = [p for p in parties[:MAX_PARTIES] if isinstance(p, dict)]
    exclude = data.get("exclude")
    exclude = db_id(exclude)
    found = related_cases(current_user, parties, exclude_case_id=exclude)
    html = render_template("related/_notice.html", related=found) if found else ""
    return jsonify({"related": [r.as_json() for r in found], "html": html})


def _parties_from_form(form) -> list[dict]:
    out: dict[int, dict] = {}
    for key, value in form.items():
        bits = key.split("-")
        if len(bits) == 3 and bits[0] == "parties" and ascii_int(bits[1], 0, 999) is not None and \
                bits[2] in ("name", "birth_date", "phone", "id_number"):
            out.setdefault(int(bits[1]), {"position": int(bits[1])})[bits[2]] = value
    return [out[i] for i in sorted(out)]


def related_for(case):
    """The case page's related cases, for the current user (template global)."""
    if not can(current_user, "case.view"):
        return []
    return related_to_case(current_user, case)


@bp.app_context_processor
def _inject():
    return {"related_for": related_for}


@bp.after_app_request
def _notice_after_intake(response):
    """After a case is registered (/cases/new redirects to its page), the same check
    on the server: a notice on the next page when the parties appear elsewhere."""
    if request.endpoint != "cases.new" or request.method != "POST" or response.status_code not in (302, 303):
        return response
    try:
        path = urlsplit(response.location or "").path
        endpoint, args = current_app.url_map.bind("localhost").match(path, method="GET")
    except (HTTPException, ValueError):
        return response
    if endpoint != "cases.detail":
        return response
    case = db.session.scalar(access.cases_query(current_user).where(Case.id == args["case_id"]))
    if case is not None:
        found = related_to_case(current_user, case)
        if found:
            flash(_("The same people appear in other cases of the network: see “Related cases” on this page."),
                  "warning")
    return response
