"""The statistics' aggregates (``stat_cell``), kept in the transaction of every change they count.

What a case adds to the figures is a function of the case as it stands now, its referrals
and its follow-up visits (``case_cells``); an accepted escalation adds to the units that
sent and received it (``transfer_cells``). The counting rules are those of ``services``
(module docstring): every figure about a case counts at the unit holding it now, on the
local day of its date, so a transfer moves all its figures, a reopening takes its outcome
away, an edit of the category or the intake date moves it.

Kept up to date by listeners, like the search index (``search.index``):

* ``before_flush`` notes the cases a flush touches in a way the figures see (the fields in
  ``CASE_FIELDS``, a new or changed referral or follow-up visit) and reads what they add up
  to from the database as it is before the flush;
* ``after_flush`` reads it again and adds the difference to ``stat_cell``, for the holder
  and each unit above it, by day and by month, in the same transaction;
* an accepted escalation (the workflow's "receive" step, whose transfer is decided with one
  bulk UPDATE) adds its two cells through the ``transitioned`` signal (``init_app``).

Only ORM changes are seen: anything written around the ORM (a bulk import, the demo
generator) ends with ``rebuild``, which ``flask --app mediation stats rebuild`` also runs.
Days are counted in the configured zone (``BABEL_DEFAULT_TIMEZONE``): after changing it, run
``stats rebuild``.
"""
import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..cases import workflow
from ..cases.models import Case
from ..diary.models import DiaryEntry, EntryKind
from ..extensions import db
from ..timeutil import zone
from ..transfers.models import Referral
from .models import CELL_KEY, MEASURES, stat_cell

NOW_SENTINEL = date(1900, 1, 1)  # the "now" cell of an open case without a due date
INDEX = {m: i for i, m in enumerate(MEASURES)}
BATCH = 2000

# Lightweight tables with only the columns read here (the migration runs this code too).
_case = sa.table(
    "case_record", sa.column("id", sa.Integer), sa.column("unit_id", sa.Integer),
    sa.column("category_id", sa.Integer), sa.column("intake_date", sa.Date),
    sa.column("amount_in_dispute", sa.Numeric(14, 2)), sa.column("people_involved", sa.Integer),
    sa.column("dv_flag", sa.Boolean), sa.column("risk_level", sa.String), sa.column("is_major", sa.Boolean),
    sa.column("is_mass", sa.Boolean), sa.column("accepted_at", sa.DateTime), sa.column("concluded_at", sa.DateTime),
    sa.column("outcome", sa.String), sa.column("closed_at", sa.DateTime), sa.column("status", sa.String),
    sa.column("due_date", sa.Date))
_unit = sa.table("org_unit", sa.column("id", sa.Integer), sa.column("path", sa.String), sa.column("tier", sa.String))
_referral = sa.table("case_referral", sa.column("case_id", sa.Integer), sa.column("referred_on", sa.Date))
_entry = sa.table("diary_entry", sa.column("case_id", sa.Integer), sa.column("kind", sa.String),
                  sa.column("occurred_on", sa.Date), sa.column("satisfaction", sa.String))
_transfer = sa.table("case_transfer", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                     sa.column("status", sa.String), sa.column("from_unit_id", sa.Integer),
                     sa.column("to_unit_id", sa.Integer), sa.column("decided_at", sa.DateTime))

# The statuses as stored (cases.models): "in progress" and the mediation clock's.
IN_PROGRESS = frozenset({"accepted", "assigned", "in_mediation", "pending_transfer"})
OPEN = frozenset({"accepted", "assigned", "in_mediation"})
OUTCOMES = {"success": "success", "partial": "partial", "failed": "failed", "terminated": "terminated"}
SETTLED = frozenset({"success", "partial"})
SATISFACTION = {"satisfied": "sat_satisfied", "basically": "sat_basically", "unsatisfied": "sat_unsatisfied"}
PEOPLE_BANDS = (("band_1_4", 0, 4), ("band_5_9", 5, 9), ("band_10_29", 10, 29), ("band_30", 30, None))


def _value(v) -> str | None:
    return getattr(v, "value", v)


def fen(amount) -> int:
    """An amount in yuan as whole fen (as the raw count's ROUND(amount * 100))."""
    return int((Decimal(str(amount)) * 100).to_integral_value(rounding=ROUND_HALF_UP)) if amount is not None else 0


def _local_day():
    """A function: a stored (naive UTC) time -> its local day (the zone read once)."""
    z = zone()
    cache: dict = {}

    def local(moment: datetime) -> date:
        # Every zone's offset is a multiple of 15 minutes: the quarter hour decides the day.
        quarter = moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)
        day = cache.get(quarter)
        if day is None:
            day = cache[quarter] = quarter.replace(tzinfo=UTC).astimezone(z).date()
        return day
    return local


def epoch(moment: datetime) -> int:
    """A stored (naive UTC) time as whole seconds since 1970 (as the raw count's)."""
    return calendar.timegm(moment.timetuple())


# --- what a case adds up to -----------------------------------------------------------------
# A base cell: (holder unit id, holder tier, category id, kind "d" (a day) or "n" (now), day)
# -> a list of len(MEASURES) numbers.

Cells = dict[tuple, list[int]]


def _add(cells: Cells, key: tuple, **values) -> None:
    row = cells.get(key)
    if row is None:
        row = cells[key] = [0] * len(MEASURES)
    for m, v in values.items():
        row[INDEX[m]] += int(v)


def add_case(cells: Cells, c, tier: str, local_date_of) -> None:
    """The cells of one case row (``_case`` columns)."""
    unit, cat = c.unit_id, c.category_id
    people = c.people_involved or 0
    risk = _value(c.risk_level)
    bands = {k: 1 for k, lo, hi in PEOPLE_BANDS if people >= lo and (hi is None or people <= hi)}
    _add(cells, (unit, tier, cat, "d", c.intake_date), registered=1, amount_disputed=fen(c.amount_in_dispute),
         people=people, dv=bool(c.dv_flag or risk in ("orange", "red")), major=bool(c.is_major),
         mass=bool(c.is_mass), **bands)
    if c.accepted_at is not None:
        _add(cells, (unit, tier, cat, "d", local_date_of(c.accepted_at)), accepted=1)
    outcome = _value(c.outcome)
    if outcome is not None and c.concluded_at is not None:
        agreed = fen(c.amount_in_dispute) if outcome in SETTLED else 0
        _add(cells, (unit, tier, cat, "d", local_date_of(c.concluded_at)), **{OUTCOMES[outcome]: 1},
             amount_agreed=agreed)
    if c.closed_at is not None:
        accepted = c.accepted_at is not None
        _add(cells, (unit, tier, cat, "d", local_date_of(c.closed_at)), closed=1, closed_with_acceptance=accepted,
             closed_seconds=epoch(c.closed_at) - epoch(c.accepted_at) if accepted else 0)
    status = _value(c.status)
    if status in IN_PROGRESS:
        _add(cells, (unit, tier, cat, "n", c.due_date or NOW_SENTINEL), in_progress=1,
             open_due=status in OPEN and c.due_date is not None)


def case_cells(connection, case_ids: Iterable[int]) -> tuple[Cells, dict[int, str]]:
    """The base cells of these cases as the database holds them now, and the paths of
    their holders ({unit id: path})."""
    cells: Cells = {}
    paths: dict[int, str] = {}
    local = _local_day()
    ids = sorted({i for i in case_ids if i is not None})
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        held: dict[int, tuple] = {}
        for row in connection.execute(sa.select(_case, _unit.c.path, _unit.c.tier)
                                      .join(_unit, _unit.c.id == _case.c.unit_id).where(_case.c.id.in_(chunk))):
            add_case(cells, row, row.tier, local)
            paths[row.unit_id] = row.path
            held[row.id] = (row.unit_id, row.tier, row.category_id)
        if not held:
            continue
        for r in connection.execute(sa.select(_referral.c.case_id, _referral.c.referred_on)
                                    .where(_referral.c.case_id.in_(list(held)))):
            unit, tier, cat = held[r.case_id]
            _add(cells, (unit, tier, cat, "d", r.referred_on), referred=1)
        for e in connection.execute(sa.select(_entry.c.case_id, _entry.c.occurred_on, _entry.c.satisfaction)
                                    .where(_entry.c.case_id.in_(list(held)),
                                           _entry.c.kind == EntryKind.FOLLOW_UP.value)):
            unit, tier, cat = held[e.case_id]
            sat = SATISFACTION.get(_value(e.satisfaction))
            _add(cells, (unit, tier, cat, "d", e.occurred_on), follow_ups=1, **({sat: 1} if sat else {}))
    return cells, paths


def transfer_cells(connection, where) -> tuple[Cells, dict[int, str]]:
    """The escalation cells of the accepted escalations ``where`` selects: "escalated up"
    at the sending unit, "received from below" at the receiving one, on the day accepted."""
    cells: Cells = {}
    local_date_of = _local_day()
    rows = connection.execute(sa.select(_transfer.c.from_unit_id, _transfer.c.to_unit_id, _transfer.c.decided_at)
                              .where(_transfer.c.kind == "escalate", _transfer.c.status == "accepted",
                                     _transfer.c.decided_at.is_not(None), where)).all()
    units = {u for r in rows for u in (r.from_unit_id, r.to_unit_id)}
    info = _units(connection, units)
    for r in rows:
        day = local_date_of(r.decided_at)
        _add(cells, (r.from_unit_id, info[r.from_unit_id][1], 0, "d", day), escalated_out=1)
        _add(cells, (r.to_unit_id, info[r.to_unit_id][1], 0, "d", day), escalated_in=1)
    return cells, {u: p for u, (p, _t) in info.items()}


def _units(connection, ids) -> dict[int, tuple[str, str]]:
    out = {}
    ids = sorted(ids)
    for start in range(0, len(ids), BATCH):
        for u in connection.execute(sa.select(_unit.c.id, _unit.c.path, _unit.c.tier)
                                    .where(_unit.c.id.in_(ids[start:start + BATCH]))):
            out[u.id] = (u.path, u.tier)
    return out


# --- from base cells to stat_cell rows ---------------------------------------------------------

def _chain(path: str) -> list[int]:
    return [int(p) for p in path.split("/") if p]


def expand(cells: Cells, paths: dict[int, str]) -> Cells:
    """Each base cell as the rows of its holder and of every unit above it, by day and
    by month (a "now" cell as one row per unit)."""
    out: Cells = {}
    for (holder, tier, cat, kind, day), values in cells.items():
        chain = _chain(paths[holder])
        grains = (("n", day),) if kind == "n" else (("d", day), ("m", day.replace(day=1)))
        for i, unit in enumerate(chain):
            via = chain[i + 1] if i + 1 < len(chain) else unit
            for grain, d in grains:
                key = (unit, grain, d, via, tier, cat or 0)
                row = out.get(key)
                if row is None:
                    out[key] = list(values)
                else:
                    for j, v in enumerate(values):
                        row[j] += v
    return out


def difference(after: Cells, before: Cells) -> Cells:
    out: Cells = {}
    for key in after.keys() | before.keys():
        a, b = after.get(key), before.get(key)
        if a is None:
            diff = [-v for v in b]
        elif b is None:
            diff = list(a)
        else:
            diff = [x - y for x, y in zip(a, b, strict=True)]
        if any(diff):
            out[key] = diff
    return out


def _upsert(connection):
    dialect = connection.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(stat_cell)
    return stmt.on_conflict_do_update(index_elements=list(CELL_KEY),
                                      set_={m: stat_cell.c[m] + stmt.excluded[m] for m in MEASURES})


def apply(connection, rows: Cells) -> None:
    """Add these stat_cell rows (positive or negative) to the table."""
    if not rows:
        return
    params = [dict(zip(CELL_KEY, key, strict=True)) | dict(zip(MEASURES, values, strict=True))
              for key, values in sorted(rows.items())]  # a fixed order: two writers never deadlock
    connection.execute(_upsert(connection), params)


# --- the listeners ----------------------------------------------------------------------------

# Case fields the figures read (a change of any other field leaves them as they are).
CASE_FIELDS = ("unit", "unit_id", "category", "category_id", "intake_date", "amount_in_dispute", "people_involved",
               "dv_flag", "risk_level", "is_major", "is_mass", "accepted_at", "concluded_at", "outcome", "closed_at",
               "status", "due_date")
ENTRY_FIELDS = ("kind", "occurred_on", "satisfaction", "case_id")
_PENDING = "stats_pending"


def _changed(obj, fields) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


def _old_case_ids(obj) -> set[int]:
    history = sa.inspect(obj).attrs["case_id"].history
    return {i for i in (*history.deleted, *history.unchanged, *history.added) if i is not None}


def _touched(session: Session) -> tuple[set[int], list[Case]]:
    ids: set[int] = set()
    new_cases: list[Case] = []
    for obj in session.new:
        if isinstance(obj, Case):
            new_cases.append(obj)
        elif isinstance(obj, Referral) or (isinstance(obj, DiaryEntry) and obj.kind is EntryKind.FOLLOW_UP):
            ids |= _old_case_ids(obj)
    for obj in session.dirty:
        if isinstance(obj, Case):
            if obj.id is not None and _changed(obj, CASE_FIELDS):
                ids.add(obj.id)
        elif isinstance(obj, Referral):
            if _changed(obj, ("referred_on", "case_id")):
                ids |= _old_case_ids(obj)
        elif isinstance(obj, DiaryEntry) and _changed(obj, ENTRY_FIELDS):
            ids |= _old_case_ids(obj)
    for obj in session.deleted:
        if isinstance(obj, Case) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, Referral | DiaryEntry):
            ids |= _old_case_ids(obj)
    return ids, new_cases


@event.listens_for(Session, "before_flush")
def _before_flush(session, _flush_context, _instances) -> None:
    ids, new_cases = _touched(session)
    if not ids and not new_cases:
        return
    connection = session.connection()
    before, paths = case_cells(connection, ids)
    pending = session.info.setdefault(_PENDING, {"ids": set(), "new": [], "before": {}, "paths": {}})
    # Two flushes before one after_flush cannot happen; merge anyway rather than lose one.
    for key, values in before.items():
        if key not in pending["before"]:
            pending["before"][key] = values
    pending["ids"] |= ids
    pending["new"] += new_cases
    pending["paths"].update(paths)


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    connection = session.connection()
    ids = pending["ids"] | {c.id for c in pending["new"] if c.id is not None}
    after, paths = case_cells(connection, ids)
    paths = pending["paths"] | paths
    apply(connection, difference(expand(after, paths), expand(pending["before"], paths)))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)


def _on_transition(case, *, name: str, event_row, by) -> None:
    """An accepted escalation: its two cells (the transfer was decided by a bulk UPDATE)."""
    if name != "receive":
        return
    transfer_id = (event_row.changes or {}).get("transfer")
    if transfer_id is None:
        return
    connection = db.session.connection()
    cells, paths = transfer_cells(connection, _transfer.c.id == transfer_id)
    apply(connection, expand(cells, paths))


def init_app(app) -> None:
    workflow.transitioned.connect(_on_transition, weak=False)


# --- the full count ---------------------------------------------------------------------------

def rebuild(connection, *, progress=None) -> int:
    """Empty ``stat_cell`` and count everything again from the cases, referrals, follow-up
    visits and escalations. Returns the number of rows written.

    The cases are read in batches; their base cells go to a temporary table and are added
    up for each unit above their holder by one INSERT ... SELECT per grain."""
    connection.execute(sa.delete(stat_cell))
    units = {u.id: (u.path, u.tier) for u in connection.execute(sa.select(_unit.c.id, _unit.c.path, _unit.c.tier))}
    base = _base_table(connection)
    chain = _chain_table(connection, units)
    last = 0
    while True:
        ids = list(connection.scalars(sa.select(_case.c.id).where(_case.c.id > last)
                                      .order_by(_case.c.id).limit(BATCH * 5)))
        if not ids:
            break
        cells, _paths = case_cells(connection, ids)
        _write_base(connection, base, cells)
        last = ids[-1]
        if progress:
            progress(last)
    cells, _paths = transfer_cells(connection, sa.true())
    _write_base(connection, base, cells)
    _roll_up(connection, base, chain)
    n = connection.scalar(sa.select(sa.func.count()).select_from(stat_cell))
    base.drop(connection)
    chain.drop(connection)
    return n


def _temp(name: str, *columns) -> sa.Table:
    return sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])


def _base_table(connection) -> sa.Table:
    table = _temp("stat_base", sa.Column("unit_id", sa.Integer), sa.Column("kind", sa.String(1)),
                  sa.Column("day", sa.Date), sa.Column("tier", sa.String(16)), sa.Column("category_id", sa.Integer),
                  *[sa.Column(m, sa.BigInteger) for m in MEASURES])
    table.drop(connection, checkfirst=True)
    table.create(connection)
    return table


def _chain_table(connection, units: dict[int, tuple[str, str]]) -> sa.Table:
    """(unit, each unit above it and itself, the child of that unit on the way down)."""
    table = _temp("stat_chain", sa.Column("unit_id", sa.Integer), sa.Column("ancestor_id", sa.Integer),
                  sa.Column("via_id", sa.Integer))
    table.drop(connection, checkfirst=True)
    table.create(connection)
    sa.Index("ix_stat_chain_unit", table.c.unit_id).create(connection)
    rows = []
    for unit_id, (path, _tier) in units.items():
        chain = _chain(path)
        for i, a in enumerate(chain):
            rows.append({"unit_id": unit_id, "ancestor_id": a, "via_id": chain[i + 1] if i + 1 < len(chain) else a})
    for start in range(0, len(rows), 10_000):
        connection.execute(table.insert(), rows[start:start + 10_000])
    return table


def _write_base(connection, base: sa.Table, cells: Cells) -> None:
    if connection.dialect.name == "sqlite":  # straight through the driver: plain values, many rows
        sql = (f"INSERT INTO stat_base (unit_id, kind, day, tier, category_id, {', '.join(MEASURES)}) "
               f"VALUES ({', '.join('?' * (5 + len(MEASURES)))})")
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.executemany(sql, [(u, k, d.isoformat(), t, c or 0, *values)
                                     for (u, t, c, k, d), values in cells.items()])
        finally:
            cursor.close()
        return
    params = [{"unit_id": u, "kind": k, "day": d, "tier": t, "category_id": c or 0,
               **dict(zip(MEASURES, values, strict=True))} for (u, t, c, k, d), values in cells.items()]
    for start in range(0, len(params), 10_000):
        connection.execute(base.insert(), params[start:start + 10_000])


def _month_of(connection, day):
    if connection.dialect.name == "postgresql":
        return sa.cast(sa.func.date_trunc("month", day), sa.Date)
    return sa.func.date(day, "start of month")


def _roll_up(connection, base: sa.Table, chain: sa.Table) -> None:
    for grain, kind in (("d", "d"), ("m", "d"), ("n", "n")):
        day = _month_of(connection, base.c.day) if grain == "m" else base.c.day
        sub = (sa.select(chain.c.ancestor_id.label("unit_id"), sa.literal(grain).label("grain"), day.label("day"),
                         chain.c.via_id, base.c.tier, base.c.category_id,
                         *[sa.func.sum(base.c[m]).label(m) for m in MEASURES])
               .join(chain, chain.c.unit_id == base.c.unit_id).where(base.c.kind == kind)
               .group_by(chain.c.ancestor_id, day, chain.c.via_id, base.c.tier, base.c.category_id))
        connection.execute(stat_cell.insert().from_select(list(CELL_KEY) + list(MEASURES), sub))


# --- checking -----------------------------------------------------------------------------------

def table_rows(connection) -> Cells:
    """Every non-zero row of ``stat_cell`` (rows a change brought back to 0 stay until a rebuild)."""
    cols = [stat_cell.c[k] for k in CELL_KEY] + [stat_cell.c[m] for m in MEASURES]
    out: Cells = {}
    for row in connection.execute(sa.select(*cols)):
        values = [int(v) for v in row[len(CELL_KEY):]]
        if any(values):
            out[tuple(row[:len(CELL_KEY)])] = values
    return out


def recount_rows(connection) -> Cells:
    """What ``stat_cell`` should hold, counted from the raw rows (in memory: for tests
    and the generator's checks, not for a large database)."""
    case_ids = list(connection.scalars(sa.select(_case.c.id)))
    cells, paths = case_cells(connection, case_ids)
    t_cells, t_paths = transfer_cells(connection, sa.true())
    total = expand(cells, paths | t_paths)
    for key, values in expand(t_cells, paths | t_paths).items():
        row = total.setdefault(key, [0] * len(MEASURES))
        for j, v in enumerate(values):
            row[j] += v
    return {k: v for k, v in total.items() if any(v)}


def mismatches(connection, limit: int = 10) -> list[str]:
    """Where ``stat_cell`` differs from a recount (empty: they agree)."""
    have, want = table_rows(connection), recount_rows(connection)
    out = []
    for key in sorted(have.keys() | want.keys(), key=str):
        a, b = have.get(key), want.get(key)
        if a != b:
            diff = {m: (a[i] if a else 0, b[i] if b else 0) for i, m in enumerate(MEASURES)
                    if (a[i] if a else 0) != (b[i] if b else 0)}
            out.append(f"{key}: table vs recount {diff}")
            if len(out) >= limit:
                break
    return out

