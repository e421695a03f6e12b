"""The case list's filters and search, for the case list page, its exports and the JSON API:
one query, from the scope helpers (``access.cases_query``, ``access.case_rows``)."""
from datetime import date

from sqlalchemy import select

from .. import access
from ..paging import bounded_counts
from ..parsing import db_id, iso_day
from ..search.services import search_cases
from ..search.text import MAX_QUERY
from ..timeutil import local_today
from ..transfers.models import Transfer, TransferStatus
from . import services
from .models import HOLDS, Case, CaseStatus, CaseVisibility, RiskLevel

CV = CaseVisibility

VIEWS = ("subtree", "mine", "unit")


def _parse_date(value) -> date | None:
    return iso_day(value)


def filtered_cases(user, args) -> tuple:
    """(query, query for the counts per status or None, the unit filtered on, the view) for the filters
    in ``args`` (the list page's query string): view, unit, category, risk, from, to, overdue,
    open, incoming, q and status; a unit outside the user's area answers 404. The counts'
    query is the same without the status filter, on ``case_visibility`` alone when no filter
    needs the case table; None when the list is not counted (a common search)."""
    view = args.get("view") or "subtree"
    unit = access.get_unit_or_404(args["unit"], user) if args.get("unit") else None
    on_rows, on_case = [], []  # conditions on CaseVisibility, on Case
    if unit is not None:  # cases held in that unit's subtree: its own rows of case_visibility
        stmt, rows = access.held_cases_query(user, unit), access.case_rows(user, unit)
        if view == "unit":
            on_case.append(Case.unit_id == user.unit_id)
    elif view == "unit":
        stmt, rows = access.unit_cases_query(user), access.case_rows(user).where(CV.held == HOLDS)
    else:
        stmt, rows = access.cases_query(user), access.case_rows(user)
    if view == "mine":
        on_rows.append(CV.case_id.in_(select(Case.id).where(Case.lead_mediator_id == user.id).union(
            select(services.case_co_mediator.c.case_id).where(services.case_co_mediator.c.user_id == user.id))))
    if db_id(args.get("category")) is not None:
        on_case.append(Case.category_id == db_id(args["category"]))
    if args.get("risk") in {r.value for r in RiskLevel}:
        on_case.append(Case.risk_level == RiskLevel(args["risk"]))
    if (d := _parse_date(args.get("from"))) is not None:
        on_rows.append(CV.intake_date >= d)
    if (d := _parse_date(args.get("to"))) is not None:
        on_rows.append(CV.intake_date <= d)
    if args.get("overdue"):
        on_rows.append(CV.due_key < local_today())  # a due date is kept only while the clock runs
    if any(args.get(k) for k in ("category", "risk", "from", "to", "overdue")):
        # A restricted case not yet opened shows its number, status and unit only: filtering on
        # what it hides would tell it (its risk, its category) without the reason being given.
        on_rows.append(access.content_shown_rows())
    if args.get("open"):
        on_rows.append(CV.status.in_(services.WORKING_STATUSES))
    if args.get("incoming"):  # waiting for the user's own unit to accept
        on_rows.append(CV.case_id.in_(select(Transfer.case_id).where(
            Transfer.status == TransferStatus.PENDING, Transfer.to_unit_id == user.unit_id)))
    # Half-width brackets typed on a phone keyboard match the full-width ones of case numbers.
    q = (args.get("q") or "").strip()[:MAX_QUERY].replace("(", "（").replace(")", "）")
    search = search_cases(user, q) if q else None
    if search is not None:  # number, party names, summary, claims, diary text: the one search function
        on_rows.append(search.condition())
    stmt = stmt.where(*on_rows, *on_case)
    # A common search is not counted (search.services: it would look through every case).
    counts_stmt = None if search is not None and search.common else stmt if on_case else rows.where(*on_rows)
    if any(args.get(k) for k in ("after", "before", "cursor")):
        # A restricted case not yet opened is on first pages only (the counts stay those of the
        # whole list): a cursor typed by hand (the pages' after/before, the API's cursor) would
        # find its date or due date by halving. Its key is never a cursor (paging.keyset_page).
        stmt = stmt.where(access.content_shown_rows())
    status = args.get("status")
    if status in {s.value for s in CaseStatus}:
        stmt = stmt.where(CV.status == CaseStatus(status))
    return stmt, counts_stmt, unit, view


def status_counts(counts_stmt) -> dict[CaseStatus, int] | None:
    """Cases per status of ``filtered_cases``' counts query, each stopping at
    ``paging.count_bound()`` (shown "1,000+"), in one query; None when not counted."""
    if counts_stmt is None:
        return None
    statuses = list(CaseStatus)
    return dict(zip(statuses, bounded_counts([counts_stmt.where(CV.status == s) for s in statuses]), strict=True))
