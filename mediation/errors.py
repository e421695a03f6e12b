"""Domain exceptions and the error pages (in the user's language)."""
import re

from flask import current_app, has_request_context, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest

from .crypto import IdKeyError
from .extensions import db
from .parsing import MAX_ID


class DomainError(Exception):
    """A rule of the domain refused the action; ``message`` is shown to the user.
    ``errors``: every problem found, as (field, message) pairs, so that a form can show them
    all at once (``raise_all``); a single problem is the one pair."""

    def __init__(self, message: str, field: str | None = None, *, errors: list | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or [(field, message)]


def raise_all(problems: list[tuple[str | None, str]]) -> None:
    """Refuse with every problem found (the first one is the message), if any."""
    if problems:
        field, message = problems[0]
        raise DomainError(message, field, errors=list(problems))


API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"


def is_api_request() -> bool:
    """A request to the JSON API (``/api/v1/...``): bearer tokens only, no session, errors as
    ``application/problem+json``."""
    return has_request_context() and request.path.startswith(API_PREFIX)


def problem(status: int, title: str, detail: str | None = None, *, errors: dict | None = None,
            headers: dict | None = None, **extra):
    """An RFC 9457 problem document (``application/problem+json``); ``errors`` maps a field
    (a JSON pointer-like path such as ``parties.0.id_number``) to its messages."""
    body = {"type": "about:blank", "title": str(title), "status": status}
    if detail:
        body["detail"] = str(detail)
    body["instance"] = request.path
    if errors:
        body["errors"] = {str(k): [str(m) for m in v] for k, v in errors.items()}
    body.update(extra)
    response = current_app.response_class(current_app.json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _wants_json() -> bool:
    return request.path == "/healthz" or request.is_json or request.accept_mimetypes.best == "application/json"


def _way_back() -> tuple[str | None, str | None]:
    """Where "back" leads from a refused upload: the case it was sent to, else the page
    it came from (same site only), else nowhere (the page offers the home page)."""
    from urllib.parse import urlsplit, urlunsplit

    from flask import url_for

    case_id = (request.view_args or {}).get("case_id")
    if isinstance(case_id, int):
        return url_for("cases.detail", case_id=case_id, _anchor="attachments"), _("Back to the case")
    ref = urlsplit(request.referrer or "")
    if (ref.scheme in ("http", "https") and ref.netloc == request.host and ref.path.startswith("/")
            and not ref.path.startswith(("//", "/\\"))):
        return urlunsplit(("", "", ref.path, ref.query, "")), _("Back to the previous page")
    return None, None




# A NUL (PostgreSQL stores none) or half of a UTF-16 pair (no UTF-8 encodes one; JSON's
# "\ud800" escape makes one) can be neither stored nor shown.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class UnstorableText(BadRequest):
    """The request carries characters that cannot be stored."""


# No form or API body of the app nests deeper than a few levels; a deeper one is refused
# before anything walks it (Python's recursion limit would turn it into a 500).
MAX_JSON_DEPTH = 32


def _unstorable(value, depth: int = 0) -> bool:
    if depth > MAX_JSON_DEPTH:
        raise BadRequest()
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable(k, depth + 1) or _unstorable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v, depth + 1) for v in value)
    return False


def check_request_text() -> None:
    """The one guard for every request: path, query, form fields, file names and JSON.

    :raise UnstorableText: a NUL or a lone surrogate anywhere in them."""
    texts = [*(request.view_args or {}).values(), *(t for pair in request.args.items(multi=True) for t in pair)]
    if request.method in ("POST", "PUT", "PATCH"):
        if request.is_json:
            try:
                texts.append(request.get_json(silent=True))
            except RecursionError:  # nested past what the JSON decoder can read
                raise BadRequest() from None
        else:
            texts += [t for pair in request.form.items(multi=True) for t in pair]
            texts += [f.filename for f in request.files.values()]
            # The app's field names are ASCII; a "parties-²-name" would reach WTForms' int().
            if not all(key.isascii() for key in [*request.form.keys(), *request.files.keys()]):
                raise UnstorableText()
    if any(_unstorable(t) for t in texts):
        raise UnstorableText()


def init_app(app) -> None:
    app.before_request(check_request_text)

    @app.before_request
    def _ids_in_range():
        """An id no row can have is not found (instead of an integer overflow in the database)."""
        from flask import abort, request

        if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in (request.view_args or {}).values()):
            abort(404)

    def page(code: int, title: str, text: str, **extra):
        if is_api_request():
            return problem(code, title, text)
        if _wants_json():
            return {"error": title}, code
        return render_template("errors/error.html", code=code, title=title, text=text, **extra), code

    @app.errorhandler(403)
    def forbidden(_e):
        return page(403, _("No permission"), _("Your account may not open this page."))

    @app.errorhandler(404)
    def not_found(_e):
        return page(404, _("Not found"), _("This page does not exist, or it is outside your area."))

    @app.errorhandler(405)
    def not_allowed(_e):
        return page(405, _("Not allowed"), _("This action cannot be done this way."))

    @app.errorhandler(413)
    def too_large(_e):
        back, back_label = _way_back()
        limit = app.config["MAX_UPLOAD_BYTES"] // 2**20
        return page(413, _("The file is too large"),
                    _("A file can be at most %(mb)d MB; this one is larger, and nothing was saved. Go back and "
                      "choose a smaller file, or take the photo again at a lower resolution.", mb=limit),
                    back=back, back_label=back_label)

    @app.errorhandler(UnstorableText)
    def unstorable(_e):
        back, back_label = _way_back()
        if request.method in ("GET", "HEAD"):  # a search or a filter: nothing was to be saved
            return page(400, _("Characters that cannot be read"),
                        _("The address contains a character that cannot be read (a NUL or a broken character, "
                          "usually from text pasted out of another program). Go back and type the search "
                          "again instead of pasting it."),
                        back=back, back_label=back_label)
        return page(400, _("Characters that cannot be saved"),
                    _("What was sent contains a character that cannot be saved (a NUL or a broken character, "
                      "usually from text pasted out of another program). Nothing was saved. Go back, type that "
                      "text again instead of pasting it, and send it once more."),
                    back=back, back_label=back_label)

    @app.errorhandler(IdKeyError)
    def keys_do_not_fit(_e):
        # The keys were changed under a running server (e.g. `keys rotate` not stopped first):
        # say so, instead of a server error, until the right keys are back.
        db.session.rollback()
        return page(503, _("The ID number keys do not fit"),
                    _("The keys of the encrypted ID numbers do not open the stored numbers. Nothing was saved. "
                      "An administrator must run “flask keys check” and restart the servers."))

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return page(
            400,
            _("The form has expired"),
            _("This submission was not saved: you were logged out, or the page was open too long. Go back, "
              "reload the page and submit again. A case form being typed was kept in “My drafts” up to its "
              "last automatic save."),
        )

    @app.errorhandler(500)
    def server_error(_e):
        db.session.rollback()
        return page(
            500,
            _("Something went wrong"),
            _("The error has been logged. Nothing was saved; please try again."),
        )
