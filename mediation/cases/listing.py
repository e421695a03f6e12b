"""The case list's filters and search, for the case list page, its exports and the JSON API:
one query, from the scope helper (``access.cases_query``)."""
from datetime import date

from sqlalchemy import or_, select

from .. import access
from ..org.models import OrgUnit
from ..parsing import db_id
from ..search.services import search_cases
from ..transfers.models import Transfer, TransferStatus
from . import services
from .models import Case, CaseStatus, RiskLevel

VIEWS = ("subtree", "mine", "unit")


def _parse_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filtered_cases(user, args) -> tuple:
    """(query, query for the counts per status, the unit filtered on, the view) for the filters
    in ``args`` (the list page's query string): view, unit, category, risk, from, to, overdue,
    open, incoming, q and status. A unit outside the user's area answers 404."""
    stmt = access.cases_query(user)
    view = args.get("view") or "subtree"
    if view == "mine":
        stmt = stmt.where(or_(Case.lead_mediator_id == user.id, Case.id.in_(
            select(services.case_co_mediator.c.case_id).where(services.case_co_mediator.c.user_id == user.id))))
    elif view == "unit":
        stmt = stmt.where(Case.unit_id == user.unit_id)
    unit = None
    if args.get("unit"):
        unit = access.get_unit_or_404(args["unit"], user)
        subtree = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
        stmt = stmt.where(Case.unit_id.in_(subtree))
    if db_id(args.get("category")) is not None:
        stmt = stmt.where(Case.category_id == db_id(args["category"]))
    if args.get("risk") in {r.value for r in RiskLevel}:
        stmt = stmt.where(Case.risk_level == RiskLevel(args["risk"]))
    if (d := _parse_date(args.get("from"))) is not None:
        stmt = stmt.where(Case.intake_date >= d)
    if (d := _parse_date(args.get("to"))) is not None:
        stmt = stmt.where(Case.intake_date <= d)
    if args.get("overdue"):
        stmt = stmt.where(services.overdue_clause())
    if args.get("open"):
        stmt = stmt.where(Case.status.in_(services.WORKING_STATUSES))
    if args.get("incoming"):  # waiting for the user's own unit to accept
        stmt = stmt.where(Case.id.in_(select(Transfer.case_id).where(
            Transfer.status == TransferStatus.PENDING, Transfer.to_unit_id == user.unit_id)))
    # Half-width brackets typed on a phone keyboard match the full-width ones of case numbers.
    q = (args.get("q") or "").strip()[:50].replace("(", "（").replace(")", "）")
    if q:  # number, party names, summary, claims, diary text: the one search function
        stmt = stmt.where(Case.id.in_(search_cases(user, q).case_ids))
    counts_stmt = stmt
    status = args.get("status")
    if status in {s.value for s in CaseStatus}:
        stmt = stmt.where(Case.status == CaseStatus(status))
    return stmt, counts_stmt, unit, view
