"""The search page (/search) and the ``flask --app mediation search`` commands."""
import click
from flask import Blueprint, current_app, render_template, request
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..access import require
from ..extensions import db
from ..paging import count_bound
from ..parsing import arg_page
from .index import ensure_search_index, rebuild
from .services import search_cases
from .text import MAX_QUERY

bp = Blueprint("search", __name__)
PER_PAGE = 20

KIND_LABELS = {
    "number": _l("Case no."),
    "party": _l("Party"),
    "summary": _l("Summary"),
    "claims": _l("Claims"),
    "diary": _l("Mediation diary"),
}


@bp.route("/search")
@require("case.view")
def index():
    q = request.args.get("q", "")
    # Pages go as far as the count (paging.COUNT_BOUND cases), no further.
    page = min(request.args.get("page", 1, type=arg_page), -(-count_bound() // PER_PAGE))
    results = search_cases(current_user, q, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    if results.pages is not None and page > results.pages:  # past the last page: the last one
        page = results.pages
        results = search_cases(current_user, q, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("search/index.html", q=q, results=results, page=page, kind_labels=KIND_LABELS,
                           scan_cases=current_app.config["SEARCH_SCAN_CASES"], max_query=MAX_QUERY,
                           cut=len(q.strip()) > MAX_QUERY or request.args.get("cut") == "1")


search_cli = AppGroup("search", help="The full-text search index.")


@search_cli.command("reindex")
def reindex():
    """Rebuild the search index from every case, party and diary entry."""
    connection = db.session.connection()
    ensure_search_index(connection)
    cases, docs = rebuild(connection)
    db.session.commit()
    click.echo(_("Search index rebuilt: %(cases)d cases, %(docs)d documents.", cases=cases, docs=docs))


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(search_cli)
