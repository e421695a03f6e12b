"""Counting cases for the dashboard and the monthly report (issue 7, points 1, 2 and 7).

Counting rules (also in README, "Statistics and reports"):

* **Where a case counts.** Every figure about a case counts at the unit that *holds it
  when the figures are made* (``Case.unit_id``), and so in that unit's tier: a case a
  village escalated to its town counts at the town (乡镇街道 column) for every figure;
  the village's escalation shows in "escalated up". One rule, so the figures of a
  unit are exactly the sum of its own (本级) figures and those of its children, and no
  case is counted twice. Escalations are the exception by nature: "escalated up" counts
  the accepted escalations *sent* by units of the subtree, "received from below" those
  *received* by units of the subtree (both by the date the receiver accepted them).
* **When a case counts** (the period is a range of local calendar days, inclusive):
  registered (受理/排查数) by intake date; accepted by the acceptance time; handled
  (调处数 = mediation concluded with an outcome) and its outcomes — settled
  (调解成功), partly settled (部分成功), not settled (调解不成), ended (调解终止) — by
  the conclusion time, as the case stands now (a reopened case loses its outcome until
  it is concluded again); referred out by the referral date; follow-up satisfaction by
  the date of the follow-up visit; average days from acceptance to close over cases
  closed in the period. "Settled" in the success rate means 调解成功 + 部分成功 over all
  handled cases.
* **In progress and overdue are now**, not in the period: cases held now that are
  accepted, assigned, in mediation or waiting at a receiving unit (in progress), and the
  case list's overdue rule (``cases.services.overdue_clause``).
* **Amounts**: in dispute, over cases registered in the period; agreed, the amounts in
  dispute of the cases settled (fully or partly) in the period — the agreement records
  no amount of its own.
* **DV-flagged**: registered in the period with the DV flag or an orange/red risk.
* **People involved** bands (registered in the period): 1–4, 5–9, 10–29, 30 and more.
  Major (重大) and mass (群体性) disputes by their flags, registered in the period.

No figure carries a name, an ID number or a case number. The figures are read from the
aggregates (``aggregates``, table ``stat_cell``), kept in the transaction of every change
they count: a page reads the rows of one unit (per child × tier × category × month),
two queries whatever the number of cases. ``recount`` counts the same figures from the
raw rows (the tests hold the two equal).
"""
from __future__ import annotations

import calendar
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Integer, and_, case, cast, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from ..access import can
from ..cases.models import Case, Category, RiskLevel
from ..cases.services import overdue_clause
from ..cases.workflow import OPEN_STATUSES, CaseStatus, Outcome
from ..diary.models import DiaryEntry, EntryKind, Satisfaction
from ..extensions import db
from ..i18n import fmt_date, is_chinese
from ..memo import per_request
from ..org.models import UPPER_TIERS, OrgUnit, Tier
from ..parsing import iso_day
from ..timeutil import local_today, utc_start_of, utcnow
from ..transfers.models import Referral, Transfer, TransferKind, TransferStatus
from . import aggregates  # noqa: F401  (its listeners keep stat_cell in step)
from .models import MEASURES, MonthlyConfirmation, stat_cell
from .rounding import average, percent, yuan

# People-involved bands: (key, lowest, highest or None).
PEOPLE_BANDS = (("band_1_4", 0, 4), ("band_5_9", 5, 9), ("band_10_29", 10, 29), ("band_30", 30, None))
PEOPLE_BAND_LABELS = {"band_1_4": "1–4", "band_5_9": "5–9", "band_10_29": "10–29", "band_30": "≥30"}
OUTCOME_MEASURES = {Outcome.SUCCESS: "success", Outcome.PARTIAL: "partial", Outcome.FAILED: "failed",
                    Outcome.TERMINATED: "terminated"}
SATISFACTION_MEASURES = {Satisfaction.SATISFIED: "sat_satisfied", Satisfaction.BASICALLY: "sat_basically",
                         Satisfaction.UNSATISFIED: "sat_unsatisfied"}
IN_PROGRESS = OPEN_STATUSES | {CaseStatus.PENDING}
BY_YEAR_AFTER = 36  # a range of more months than this is broken down by year, not by month

MEASURE_LABELS = {
    "registered": _l("Registered"),
    "accepted": _l("Accepted"),
    "handled": _l("Handled (concluded)"),
    "settled": _l("Settled (fully or partly)"),
    "success": _l("Settled"),
    "partial": _l("Partly settled"),
    "failed": _l("Not settled"),
    "terminated": _l("Ended"),
    "in_progress": _l("In progress now"),
    "overdue": _l("Overdue now"),
    "escalated_out": _l("Escalated up"),
    "escalated_in": _l("Received from below"),
    "referred": _l("Referred out"),
    "dv": _l("DV-flagged or orange/red risk"),
    "major": _l("Major disputes"),
    "mass": _l("Mass disputes"),
    "people": _l("People involved"),
    "closed": _l("Closed"),
}


# --- periods -------------------------------------------------------------------------

def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


@dataclass(frozen=True)
class Period:
    """A range of local calendar days, both ends included."""

    start: date
    end: date
    kind: str = "custom"  # month, quarter, year or custom

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        return cls(first, month_end(first), "month")

    @classmethod
    def quarter(cls, year: int, q: int) -> Period:
        first = date(year, 3 * (q - 1) + 1, 1)
        return cls(first, month_end(add_months(first, 2)), "quarter")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), "year")

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        if end < start:
            start, end = end, start
        return cls(start, end, "custom")  # the whole range: a long one is broken down by year

    def year_to_date(self) -> Period:
        """From 1 January of the end's year to the end (the report's 年度累计)."""
        return Period(date(self.end.year, 1, 1), self.end, "custom")

    @property
    def months(self) -> list[date]:
        """The first day of each calendar month the period touches."""
        out, m = [], month_start(self.start)
        while m <= self.end:
            out.append(m)
            m = add_months(m, 1)
        return out

    @property
    def by_year(self) -> bool:
        """A long range (more than ``BY_YEAR_AFTER`` months) is broken down by year."""
        return len(self.months) > BY_YEAR_AFTER

    @property
    def buckets(self) -> list[date]:
        """The first day of each row of the per-month break-down: the months, or for a
        long range the years (the first one from the period's start)."""
        if not self.by_year:
            return self.months
        return [max(date(y, 1, 1), self.start) for y in range(self.start.year, self.end.year + 1)]

    @property
    def multi_year(self) -> bool:
        return self.start.year != self.end.year

    def bucket_label(self, first: date) -> str:
        """A row of the per-month break-down: 2026年 (by year), 2025年12月 (a range over
        several years, or the first month), 3月 (later months of a one-year period); in
        English 2026, Dec 2025, Mar."""
        zh = is_chinese()
        if self.by_year:
            return f"{first.year}年" if zh else str(first.year)
        if self.multi_year or first == month_start(self.start):
            return f"{first.year}年{first.month}月" if zh else format_date(first, "MMM yyyy")
        return f"{first.month}月" if zh else format_date(first, "MMM")

    @property
    def label(self) -> str:
        """2026年11月, 2026年第4季度, 2026年, or the days of a range (November 2026, Q4 2026...)."""
        s, e = self.start, self.end
        zh = is_chinese()
        if self.kind == "month":
            return f"{s.year}年{s.month}月" if zh else format_date(s, "MMMM yyyy")
        if self.kind == "quarter":
            q = (s.month - 1) // 3 + 1
            return f"{s.year}年第{q}季度" if zh else f"Q{q} {s.year}"
        if self.kind == "year":
            return f"{s.year}年" if zh else str(s.year)
        return f"{fmt_date(s)} — {fmt_date(e)}"

    @property
    def slug(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def query_args(self) -> dict:
        """The URL arguments that choose this period again (see ``period_from_args``)."""
        if self.kind == "month":
            return {"period": "month", "month": self.start.strftime("%Y-%m")}
        if self.kind == "quarter":
            return {"period": "quarter", "quarter": self.slug}
        if self.kind == "year":
            return {"period": "year", "year": self.start.year}
        return {"period": "custom", "start": self.start.isoformat(), "end": self.end.isoformat()}


def parse_month(value: str | None) -> date | None:
    try:
        y, m = (value or "").split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        return None


def _parse_date(value: str | None) -> date | None:
    return iso_day(value)


def _year(value) -> int | None:
    try:
        y = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return y if 2000 <= y <= 2100 else None


def period_from_args(args, default: str = "month", notes: list | None = None) -> Period:
    """The period chosen by URL arguments; the current month (or year, with ``default``)
    when they say nothing usable — and then, in ``notes``, a message saying so (a period
    is never changed silently).

    A quarter takes its year from the year box when one is given (the form sends both),
    else from its own value (``2026-Q2``, as in links)."""
    today = local_today()
    notes = notes if notes is not None else []
    kind = args.get("period", default)
    if kind not in ("month", "quarter", "year", "custom"):
        notes.append(_l("Unknown period: the current month is shown."))
        kind = "month"
    if kind == "year":
        y = _year(args.get("year", today.year))
        if y is None:
            notes.append(_l("The year is not valid (2000–2100): the current year is shown."))
            y = today.year
        return Period.year(y)
    if kind == "quarter":
        raw = (args.get("quarter") or "").strip().upper()
        y_part, _sep, q_part = raw.rpartition("Q")
        y = _year(args.get("year")) if args.get("year") else _year(y_part.rstrip("-"))
        q = int(q_part) if q_part.isdigit() and 1 <= int(q_part) <= 4 else None
        if y is None or q is None:
            notes.append(_l("The quarter is not valid: the current quarter is shown."))
            return Period.quarter(today.year, (today.month - 1) // 3 + 1)
        return Period.quarter(y, q)
    if kind == "custom":
        start, end = _parse_date(args.get("start")), _parse_date(args.get("end"))
        if start and end and date(2000, 1, 1) <= min(start, end) and max(start, end) <= date(2100, 12, 31):
            period = Period.custom(start, end)
            if end < start:
                notes.append(_l("The end date came before the start date: the range is shown the right way round."))
            if period.by_year:
                notes.append(_l("A range of more than three years is broken down by year."))
            return period
        notes.append(_l("The date range is not valid (two dates from 2000 to 2100): the current month is shown."))
        first = month_start(today)
        return Period.month(first.year, first.month)
    first = parse_month(args.get("month")) if args.get("month") else month_start(today)
    if first is None or not date(2000, 1, 1) <= first <= date(2100, 12, 1):
        notes.append(_l("The month is not valid: the current month is shown."))
        first = month_start(today)
    return Period.month(first.year, first.month)


def report_month(value: str | None, notes: list) -> date:
    """The monthly report's month: the current one when none is given; an invalid or a
    future month is refused with a message in ``notes`` (the current month is shown)."""
    current = month_start(local_today())
    if not value:
        return current
    first = parse_month(value)
    if first is None or first < date(2000, 1, 1):
        notes.append(_l("“%(value)s” is not a valid month (YYYY-MM): the current month is shown.", value=value))
        return current
    if first > current:
        notes.append(_l("%(month)s has not begun yet: the current month is shown.",
                        month=Period.month(first.year, first.month).label))
        return current
    return first


# --- the network ------------------------------------------------------------------------

def subtree_units(unit: OrgUnit) -> list[OrgUnit]:
    """The unit and everything under it, in one query (ordered by path and code)."""
    return list(db.session.scalars(
        select(OrgUnit).where(OrgUnit.path.startswith(unit.path, autoescape=True)).order_by(OrgUnit.code)))


def _subtree_ids(unit: OrgUnit):
    return select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True)).scalar_subquery()


def child_of(root: OrgUnit, units: list[OrgUnit]) -> dict[int, int]:
    """unit id -> the id of the child of ``root`` whose subtree holds it (root itself for root)."""
    depth = root.path.count("/")
    out = {}
    for u in units:
        parts = [p for p in u.path.split("/") if p]
        out[u.id] = int(parts[depth - 1]) if len(parts) >= depth else root.id
    return out


# --- the figures ----------------------------------------------------------------------------

# What a Figures row holds: the aggregates' measures, with "overdue" (counted from open_due).
FIGURE_MEASURES = tuple(m for m in MEASURES if m != "open_due") + ("overdue",)
FIGURE_INDEX = {m: i for i, m in enumerate(FIGURE_MEASURES)}

@dataclass
class Figures:
    """Counted cells: (measure, unit, holder tier, category id or None, month index or None) ->
    value, where the unit is the root itself for the cases it holds and otherwise the child of
    the root under which they are held ("via"), and the tier is that of the holding unit (its
    value: "station", "platform", "village")."""

    root: OrgUnit
    period: Period
    categories: list[Category]
    # (via, tier, category, month) -> the values of FIGURE_MEASURES: a page's break-downs
    # pass over these rows, not over one entry per measure.
    rows: dict = field(default_factory=dict)

    def add(self, measure: str, via, tier: str, cat_id, month, value) -> None:
        if value:
            key = (via, tier, cat_id, month)
            row = self.rows.get(key)
            if row is None:
                row = self.rows[key] = [0] * len(FIGURE_MEASURES)
            row[FIGURE_INDEX[measure]] += value

    @property
    def cells(self) -> dict:
        """{(measure, via, tier, category, month): value} for every non-zero value."""
        return {(m, *key): v for key, row in self.rows.items() for m, v in zip(FIGURE_MEASURES, row, strict=True)
                if v}

    @cached_property
    def units(self) -> dict[int, OrgUnit]:
        """The root's subtree (read when a page needs it: the villages' confirmations)."""
        return {u.id: u for u in subtree_units(self.root)}

    def sums(self, key) -> dict:
        """{group: {measure: sum}} in one pass: ``key(via, cat_id, month_index, tier)`` names the
        group of a cell (None leaves the cell out). Cells without a category or month
        (escalations, the "now" figures) reach a key as None there."""
        groups: dict = {}
        for (u, t, c, mi), row in self.rows.items():
            k = key(u, c, mi, t)
            if k is None:
                continue
            total = groups.get(k)
            groups[k] = list(row) if total is None else list(map(operator.add, total, row))  # map: C speed
        return defaultdict(lambda: defaultdict(int), {
            k: defaultdict(int, {m: v for m, v in zip(FIGURE_MEASURES, total, strict=True) if v})
            for k, total in groups.items()})

    def rollup(self, key) -> dict:
        """{group: summary} (see ``sums``)."""
        return defaultdict(lambda: summarise({}), {k: summarise(v) for k, v in self.sums(key).items()})

    def summary(self, *, cat=None, month=None, tier: Tier | None = None) -> dict:
        """Every figure, for the cells of a category, a month index, a tier of the holding unit."""
        def key(_u, c, mi, t):
            if cat is not None and c != cat:
                return None
            if month is not None and mi != month:
                return None
            if tier is not None and t != tier.value:
                return None
            return True
        return self.rollup(key)[True]

    # Break-downs --------------------------------------------------------------------

    def child_rows(self) -> list[tuple[OrgUnit | None, dict]]:
        """(None, the root's own figures), then (child, its subtree's figures) for each child: they add up."""
        sums = self.rollup(lambda u, c, mi, t: u)
        return [(None, sums[self.root.id])] + [(c, sums[c.id]) for c in self.children]

    @cached_property
    def children(self) -> list[OrgUnit]:
        """The root's children by code (read once: a page and its chart both break down by them)."""
        return list(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == self.root.id)
                                       .order_by(OrgUnit.code)))

    def month_rows(self) -> list[tuple[date, dict]]:
        """Per month of the period (per year for a long range: ``Period.buckets``)."""
        sums = self.rollup(lambda u, c, mi, t: mi)
        return [(m, sums[i]) for i, m in enumerate(self.period.buckets)]

    def category_rows(self) -> list[tuple[Category, dict]]:
        """Every active category, and any inactive one with figures."""
        sums = self.rollup(lambda u, c, mi, t: c)
        return [(c, sums[c.id]) for c in self.categories
                if c.active or sums[c.id]["registered"] or sums[c.id]["handled"] or sums[c.id]["in_progress"]]


SUMMED = ("registered", "accepted", "success", "partial", "failed", "terminated", "in_progress", "overdue",
          "escalated_out", "escalated_in", "referred", "dv", "major", "mass", "people", "closed",
          "closed_with_acceptance", "sat_satisfied", "sat_basically", "sat_unsatisfied", "follow_ups",
          *(key for key, _lo, _hi in PEOPLE_BANDS))


def category_name(category: Category) -> str:
    """A category as the reader's language names it (the exports are made in Chinese)."""
    return category.name_zh if is_chinese() else category.name_en


def summarise(v: dict) -> dict:
    """The figures and the rates derived from summed cells."""
    s = {m: int(v.get(m, 0)) for m in SUMMED}
    s["settled"] = s["success"] + s["partial"]
    s["handled"] = s["settled"] + s["failed"] + s["terminated"]
    # Every rate and average from exact integers, rounded half up (rounding.py).
    s["success_rate"] = percent(s["settled"], s["handled"])
    s["handling_rate"] = percent(s["handled"], s["registered"])
    s["amount_disputed"] = yuan(v.get("amount_disputed") or 0)
    s["amount_agreed"] = yuan(v.get("amount_agreed") or 0)
    s["avg_days"] = average(v.get("closed_seconds") or 0, s["closed_with_acceptance"], unit=86400)
    rated = s["sat_satisfied"] + s["sat_basically"] + s["sat_unsatisfied"]
    s["rated"] = rated
    s["satisfaction_rate"] = percent(s["sat_satisfied"] + s["sat_basically"], rated)
    return s


def _month_bucket(col, bounds: list):
    """0, 1, ... : which month of the period a value falls in (the period's months' starts)."""
    if len(bounds) == 1:
        return db.literal(0)
    return case(*[(col < b, i) for i, b in enumerate(bounds[1:])], else_=len(bounds) - 1)


def _epoch_seconds(moment):
    """A stored time as whole seconds since 1970, an integer on both databases."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", moment)), BigInteger)
    return cast(func.strftime("%s", moment), Integer)


def _seconds_between(later, earlier):
    return _epoch_seconds(later) - _epoch_seconds(earlier)


def _fen(amount):
    """An amount in yuan as whole fen: summed as integers, never as floats."""
    return cast(func.round(amount * 100), BigInteger)


def _grouped(inner_cols: dict, where, group: tuple[str, ...], sums: dict, frm=None):
    """SELECT group..., aggregates FROM (SELECT inner_cols FROM frm WHERE where) GROUP BY group.

    The inner select names every expression, so the outer GROUP BY names plain columns
    (PostgreSQL does not match a CASE with bound parameters in GROUP BY to the select list)."""
    inner = select(*[expr.label(name) for name, expr in inner_cols.items()])
    if frm is not None:
        inner = inner.select_from(frm)
    sub = inner.where(where).subquery()
    cols = [sub.c[g] for g in group]
    aggs = [(name, fn(sub.c)) for name, fn in sums.items()]
    stmt = select(*cols, *[a.label(n) for n, a in aggs]).group_by(*cols)
    yield from db.session.execute(stmt)


def _categories() -> list[Category]:
    # A monthly report asks for the month and the year so far: one read of the categories.
    return per_request("stats.categories", lambda: list(
        db.session.scalars(select(Category).order_by(Category.sort_order, Category.id))))


def _stored_tier(value) -> Tier:
    return value if isinstance(value, Tier) else Tier(value)


def compute(root: OrgUnit, period: Period, *, current: bool = True) -> Figures:
    """All figures for the subtree of ``root`` over ``period``, from the aggregates: the
    rows of ``root`` only (two queries, whatever the number of cases). Whole months are
    read from the month rows, the days of a custom range's partial months from the day rows.

    ``current``: also count the figures that are "now" (in progress, overdue)."""
    fig = Figures(root=root, period=period, categories=_categories())
    t = stat_cell.c
    date_bounds = [max(m, period.start) for m in period.buckets]
    full = [m for m in period.months if m >= period.start and month_end(m) <= period.end]
    parts = []
    if full:
        parts.append(and_(t.grain == "m", t.day.between(full[0], full[-1])))
    edges = []
    if not full:
        edges.append((period.start, period.end))
    else:
        if period.start < full[0]:
            edges.append((period.start, full[0] - timedelta(days=1)))
        if month_end(full[-1]) < period.end:
            edges.append((add_months(full[-1], 1), period.end))
    parts += [and_(t.grain == "d", t.day.between(a, b)) for a, b in edges]
    period_measures = [m for m in MEASURES if m not in ("in_progress", "open_due")]
    inner = {"v": t.via_id, "holder_tier": t.tier, "c": t.category_id, "m": _month_bucket(t.day, date_bounds),
             **{m: t[m] for m in period_measures}}
    sums = {m: (lambda c, m=m: func.sum(c[m])) for m in period_measures}
    rows, tiers = fig.rows, {}
    index = [FIGURE_INDEX[m] for m in period_measures]
    for via, stored, cat, month, *values in _grouped(inner, and_(t.unit_id == root.id, or_(*parts)),
                                                     ("v", "holder_tier", "c", "m"), sums):
        tier = tiers.get(stored) or tiers.setdefault(stored, _stored_tier(stored).value)
        key = (via, tier, cat or None, month)
        row = rows.get(key)
        if row is None:
            row = rows[key] = [0] * len(FIGURE_MEASURES)
        for i, value in zip(index, values, strict=True):
            if value:
                row[i] += int(value)
    if current:
        today = local_today()
        inner = {"v": t.via_id, "holder_tier": t.tier, "c": t.category_id, "n": t.in_progress,
                 "late": case((t.day < today, t.open_due), else_=0)}
        for row in _grouped(inner, and_(t.unit_id == root.id, t.grain == "n"), ("v", "holder_tier", "c"),
                            {"n": lambda c: func.sum(c.n), "late": lambda c: func.sum(c.late)}):
            tier = _stored_tier(row.holder_tier).value
            fig.add("in_progress", row.v, tier, row.c or None, None, int(row.n or 0))
            fig.add("overdue", row.v, tier, row.c or None, None, int(row.late or 0))
    return fig


def recount(root: OrgUnit, period: Period, *, current: bool = True) -> Figures:
    """The same figures counted from the raw rows (cases, referrals, diary entries,
    transfers): a fixed number of GROUP BY queries over the subtree's cases. For checking
    the aggregates (tests, ``stats rebuild --check``); pages use ``compute``."""
    units = {u.id: u for u in subtree_units(root)}
    fig = Figures(root=root, period=period, categories=_categories())
    via = child_of(root, list(units.values()))

    def put(measure, unit_id, cat_id, month, value):
        """A cell by holder unit, filed under the root's child and the holder's tier."""
        fig.add(measure, via[unit_id], units[unit_id].tier.value, cat_id, month, value)

    in_tree = Case.unit_id.in_(_subtree_ids(root))
    months = period.buckets
    date_bounds = [max(m, period.start) for m in months]
    dt_bounds = [utc_start_of(d) for d in date_bounds]
    t0, t1 = utc_start_of(period.start), utc_start_of(period.end + timedelta(days=1))
    one = lambda cond: case((cond, 1), else_=0)  # noqa: E731

    # 1. Registered in the period (intake date).
    band_cols = {}
    for key, lo, hi in PEOPLE_BANDS:
        cond = Case.people_involved >= lo if hi is None else Case.people_involved.between(lo, hi)
        band_cols[key] = one(cond)
    inner = {"u": Case.unit_id, "c": Case.category_id, "m": _month_bucket(Case.intake_date, date_bounds),
             "amount": _fen(Case.amount_in_dispute), "people": Case.people_involved,
             "dv": one(or_(Case.dv_flag.is_(True), Case.risk_level.in_([RiskLevel.ORANGE, RiskLevel.RED]))),
             "major": one(Case.is_major.is_(True)), "mass": one(Case.is_mass.is_(True)), **band_cols}
    sums = {"registered": lambda c: func.count(), "amount_disputed": lambda c: func.sum(c.amount),
            "people": lambda c: func.sum(c.people), "dv": lambda c: func.sum(c.dv),
            "major": lambda c: func.sum(c.major), "mass": lambda c: func.sum(c.mass)}
    sums.update({key: (lambda c, k=key: func.sum(c[k])) for key in band_cols})
    for row in _grouped(inner, and_(in_tree, Case.intake_date.between(period.start, period.end)),
                        ("u", "c", "m"), sums):
        for name in sums:
            put(name, row.u, row.c, row.m, getattr(row, name) or 0)

    # 2. Accepted in the period.
    for row in _grouped({"u": Case.unit_id, "c": Case.category_id, "m": _month_bucket(Case.accepted_at, dt_bounds)},
                        and_(in_tree, Case.accepted_at >= t0, Case.accepted_at < t1), ("u", "c", "m"),
                        {"n": lambda c: func.count()}):
        put("accepted", row.u, row.c, row.m, row.n)

    # 3. Concluded in the period, by outcome (as the case stands now).
    settled = Case.outcome.in_([Outcome.SUCCESS, Outcome.PARTIAL])
    inner = {"u": Case.unit_id, "c": Case.category_id, "m": _month_bucket(Case.concluded_at, dt_bounds),
             "o": Case.outcome, "agreed": case((settled, _fen(Case.amount_in_dispute)), else_=None)}
    for row in _grouped(inner, and_(in_tree, Case.outcome.is_not(None), Case.concluded_at >= t0,
                                    Case.concluded_at < t1), ("u", "c", "m", "o"),
                        {"n": lambda c: func.count(), "agreed": lambda c: func.sum(c.agreed)}):
        outcome = row.o if isinstance(row.o, Outcome) else Outcome(row.o)
        put(OUTCOME_MEASURES[outcome], row.u, row.c, row.m, row.n)
        put("amount_agreed", row.u, row.c, row.m, int(row.agreed or 0))

    # 4. Closed in the period: days from acceptance to close.
    inner = {"u": Case.unit_id, "c": Case.category_id, "m": _month_bucket(Case.closed_at, dt_bounds),
             "acc": one(Case.accepted_at.is_not(None)),
             "seconds": case((Case.accepted_at.is_not(None), _seconds_between(Case.closed_at, Case.accepted_at)),
                          else_=None)}
    for row in _grouped(inner, and_(in_tree, Case.closed_at >= t0, Case.closed_at < t1), ("u", "c", "m"),
                        {"n": lambda c: func.count(), "acc": lambda c: func.sum(c.acc),
                         "seconds": lambda c: func.sum(c.seconds)}):
        put("closed", row.u, row.c, row.m, row.n)
        put("closed_with_acceptance", row.u, row.c, row.m, row.acc or 0)
        put("closed_seconds", row.u, row.c, row.m, int(row.seconds or 0))

    # 5. Now: in progress and overdue.
    if current:
        for row in _grouped({"u": Case.unit_id, "c": Case.category_id, "late": one(overdue_clause())},
                            and_(in_tree, Case.status.in_(IN_PROGRESS)), ("u", "c"),
                            {"n": lambda c: func.count(), "late": lambda c: func.sum(c.late)}):
            put("in_progress", row.u, row.c, None, row.n)
            put("overdue", row.u, row.c, None, row.late or 0)

    # 6. Escalations accepted in the period: sent by / received by units of the subtree.
    ids = _subtree_ids(root)
    inner = {"src": Transfer.from_unit_id, "dst": Transfer.to_unit_id,
             "m": _month_bucket(Transfer.decided_at, dt_bounds)}
    where = and_(Transfer.kind == TransferKind.ESCALATE, Transfer.status == TransferStatus.ACCEPTED,
                 Transfer.decided_at >= t0, Transfer.decided_at < t1,
                 or_(Transfer.from_unit_id.in_(ids), Transfer.to_unit_id.in_(ids)))
    for row in _grouped(inner, where, ("src", "dst", "m"), {"n": lambda c: func.count()}):
        if row.src in units:
            put("escalated_out", row.src, None, row.m, row.n)
        if row.dst in units:
            put("escalated_in", row.dst, None, row.m, row.n)

    # 7. Referred out in the period (at the case's holder).
    for row in _grouped({"u": Case.unit_id, "c": Case.category_id,
                         "m": _month_bucket(Referral.referred_on, date_bounds)},
                        and_(in_tree, Referral.referred_on.between(period.start, period.end)), ("u", "c", "m"),
                        {"n": lambda c: func.count()},
                        frm=Referral.__table__.join(Case.__table__, Case.id == Referral.case_id)):
        put("referred", row.u, row.c, row.m, row.n)

    # 8. Follow-up visits in the period, and the satisfaction they recorded.
    for row in _grouped({"u": Case.unit_id, "c": Case.category_id,
                         "m": _month_bucket(DiaryEntry.occurred_on, date_bounds), "s": DiaryEntry.satisfaction},
                        and_(in_tree, DiaryEntry.kind == EntryKind.FOLLOW_UP,
                             DiaryEntry.occurred_on.between(period.start, period.end)), ("u", "c", "m", "s"),
                        {"n": lambda c: func.count()},
                        frm=DiaryEntry.__table__.join(Case.__table__, Case.id == DiaryEntry.case_id)):
        put("follow_ups", row.u, row.c, row.m, row.n)
        if row.s is not None:
            sat = row.s if isinstance(row.s, Satisfaction) else Satisfaction(row.s)
            put(SATISFACTION_MEASURES[sat], row.u, row.c, row.m, row.n)
    return fig


# --- zero reports (零报告) -------------------------------------------------------------------

def _late(root: OrgUnit, month: date):
    """A subquery (``unit_id``): the villages that confirmed "no disputes" for ``month`` and
    have cases registered in it after all (one registered after it confirmed)."""
    conf = MonthlyConfirmation
    said_none = select(conf.unit_id).where(conf.month == month, conf.had_cases.is_(False),
                                           conf.unit_id.in_(_subtree_ids(root)))
    return select(Case.origin_unit_id.label("unit_id")).where(
        Case.origin_unit_id.in_(said_none), Case.intake_date.between(month, month_end(month))).distinct().subquery()


def confirmations(root: OrgUnit, month: date) -> list[tuple[MonthlyConfirmation, bool]]:
    """The villages' confirmations of ``month`` in the subtree, each with whether it is late
    (``_late``): one query."""
    conf, late = MonthlyConfirmation, _late(root, month)
    return db.session.execute(
        select(conf, late.c.unit_id.is_not(None)).outerjoin(late, late.c.unit_id == conf.unit_id)
        .where(conf.month == month, conf.unit_id.in_(_subtree_ids(root)))).all()


@dataclass
class ReportingStatus:
    """Which villages confirmed a month. ``with_cases`` and ``none`` are (village, confirmation)
    pairs sorted by the village's code, ``missing`` the villages that did not confirm; above the
    districts these lists stay empty and ``districts`` holds the same counts district by district
    (station, villages, reported, no disputes, not reported)."""

    villages: int
    n_reported: int
    n_none: int
    n_missing: int
    with_cases: list = field(default_factory=list)
    none: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    districts: list = field(default_factory=list)


def town_order(by_id: dict[int, OrgUnit]):
    """A sort key for villages: by their town's code, then their own (a town's villages need not
    share its code's prefix: 薛埠镇's 320413401…). ``by_id``: the units the towns are read from."""
    def key(u: OrgUnit) -> tuple:
        return by_id[u.parent_id].code if u.parent_id in by_id else "", u.code
    return key


def reporting_status(root: OrgUnit, month: date, fig: Figures | None = None) -> ReportingStatus:
    """Which villages of the subtree confirmed ``month`` (with or without disputes) and which did not.

    A village that confirmed "no disputes" but has cases registered in the month (one
    registered after it confirmed) is counted as reported: the report never says "none"
    next to a count of cases. ``fig``: the month's figures, whose units are read once for both.
    Above the districts (a province has some 24,000 villages), counted district by district
    from plain rows instead of naming each village."""
    if root.tier in UPPER_TIERS:
        return _reporting_by_district(root, month)
    units = list(fig.units.values()) if fig is not None else subtree_units(root)
    by_id = {u.id: u for u in units}
    under_town = town_order(by_id)
    villages = sorted((u for u in units if u.tier is Tier.VILLAGE and u.active), key=under_town)
    pairs = sorted(((by_id[c.unit_id], c, late) for c, late in confirmations(root, month) if c.unit_id in by_id),
                   key=lambda row: under_town(row[0]))
    confirmed = {u.id for u, _c, _late in pairs}
    missing = [v for v in villages if v.id not in confirmed]
    with_cases = [(u, c) for u, c, late in pairs if c.had_cases or late]
    none = [(u, c) for u, c, late in pairs if not (c.had_cases or late)]
    return ReportingStatus(len(villages), len(with_cases), len(none), len(missing), with_cases, none, missing)


def _reporting_by_district(root: OrgUnit, month: date) -> ReportingStatus:
    """Counted in the database, one row per district: a province has some 24,000 villages.
    A village's parent is a town and the town's the district's station (the network's tiers)."""
    village, town, conf, late = aliased(OrgUnit), aliased(OrgUnit), MonthlyConfirmation, _late(root, month)
    confirmed, active = conf.unit_id.is_not(None), village.active.is_(True)
    reported = and_(confirmed, or_(conf.had_cases.is_(True), late.c.unit_id.is_not(None)))
    said_none = and_(confirmed, conf.had_cases.is_(False), late.c.unit_id.is_(None))

    def number(condition):
        return func.sum(case((condition, 1), else_=0))

    counts = {row[0]: [int(n or 0) for n in row[1:]] for row in db.session.execute(
        select(town.parent_id, number(active), number(reported), number(said_none), number(and_(~confirmed, active)))
        .select_from(village).join(town, village.parent_id == town.id)
        .outerjoin(conf, and_(conf.unit_id == village.id, conf.month == month))
        .outerjoin(late, late.c.unit_id == village.id)
        .where(village.tier == Tier.VILLAGE, village.path.startswith(root.path, autoescape=True))
        .group_by(town.parent_id))}
    stations = db.session.scalars(select(OrgUnit).options(joinedload(OrgUnit.parent)).where(
        OrgUnit.path.startswith(root.path, autoescape=True), OrgUnit.tier == Tier.STATION).order_by(OrgUnit.code)).all()
    rows = [(st, *counts.get(st.id, (0, 0, 0, 0))) for st in stations]
    return ReportingStatus(*(sum(r[i] for r in rows) for i in range(1, 5)), districts=rows)


def village_had_cases(unit: OrgUnit, month: date) -> int:
    """Cases registered by the village in the month (wherever they are held now)."""
    return db.session.scalar(select(func.count(Case.id)).where(
        Case.origin_unit_id == unit.id, Case.intake_date.between(month, month_end(month)))) or 0


def may_confirm(user, unit: OrgUnit | None = None) -> bool:
    """Village staff confirm their own village's month: a mediator, coordinator or admin of it."""
    unit = unit or getattr(user, "unit", None)
    return (getattr(user, "is_authenticated", False) and unit is not None and unit.tier is Tier.VILLAGE
            and user.unit_id == unit.id and can(user, "stats.confirm"))


def is_village_staff(user) -> bool:
    """For the navigation: the "monthly confirmation" entry."""
    return may_confirm(user)


def may_confirm_none(month: date, today: date | None = None) -> bool:
    """"No disputes" can be confirmed only for a month that has ended: a running month
    may still get cases (it can be confirmed as reported once it has some)."""
    today = today or local_today()
    return month_end(month) < today


NOTE_MAX = 500  # monthly_confirmation.note


def confirm_month(unit: OrgUnit, month: date, by, note: str = ""):
    """Record the village's confirmation of ``month``; a second one changes nothing and returns the first.
    Returns None when the month has no cases and has not ended yet (nothing is recorded)."""
    existing = db.session.scalar(select(MonthlyConfirmation).where(
        MonthlyConfirmation.unit_id == unit.id, MonthlyConfirmation.month == month))
    if existing is not None:
        return existing
    had_cases = village_had_cases(unit, month) > 0
    if not had_cases and not may_confirm_none(month):
        return None
    row = MonthlyConfirmation(unit_id=unit.id, month=month, confirmed_by_id=by.id, confirmed_at=utcnow(),
                              had_cases=had_cases, note=(note or "").strip())
    db.session.add(row)
    return row


def confirmable_months(today: date, n: int = 6) -> list[date]:
    """The current month and the ``n - 1`` before it."""
    first = month_start(today)
    return [add_months(first, -i) for i in range(n)]


# --- suppression (for anything that leaves the unit) -------------------------------------------

SMALL = 3


def is_small(value) -> bool:
    """A count of 1 or 2 (what suppression hides)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALL


def shown(value, suppress: bool):
    """A count as it leaves the unit: 1 and 2 become "<3" when suppressing (0 stays 0).
    Totals and subtotals too: a total of 1 or 2 identifies as much as a cell does."""
    if suppress and isinstance(value, int) and 0 < value < SMALL:
        return f"<{SMALL}"
    return value


def shown_rate(rate, base: int, suppress: bool):
    """A percentage (or average) over ``base`` cases: hidden ("—") when suppressing and base < 3."""
    if rate is None or (suppress and base < SMALL):
        return "—"
    return rate
