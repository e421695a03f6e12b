"""Keeping ``case_visibility`` (``cases.models.CaseVisibility``): the one access rule of
``access.cases_query`` worked out ahead, so that "the cases of my area, newest first" is
one index range instead of four subqueries over the whole case table.

A unit sees a case when it, or a unit below it within the same station, holds the case,
held it once (``CaseHolding``), is the target of its pending transfer, or was given a
follow-up visit on it (``Delegation``). ``refresh`` rewrites the rows of some cases from
those tables with one set-based statement (and one delete); ``rebuild`` does it for all.

The listeners below call ``refresh`` in the flush that changes a case's holder, status,
restriction, intake or due date or number, a transfer, a holding or a delegation, or a
unit's place in the tree: the table is never stale inside a transaction. Like the search
index, only ORM changes are seen; whoever writes those tables in bulk through Core (the
data generator, a restore from elsewhere) calls ``rebuild`` (``flask --app mediation cases
rebuild-visibility``) afterwards.
"""
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from .cases.models import FAR_DUE, OPEN_STATUSES, Case, CaseVisibility
from .org.models import OrgUnit, Tier
from .transfers.models import CaseHolding, Delegation, Transfer, TransferStatus

# Rows of ``case_visibility`` for the cases the seeds are filtered to ({where}: a condition
# on the seed's case_id column, or nothing). The ancestors are walked up parent links
# from the seed units only (a few per case), stopping at a station.
_SELECT = """
WITH RECURSIVE seeds(case_id, unit_id, held) AS (
    SELECT c.id, c.unit_id, 2 FROM case_record c WHERE {where_c}
    UNION ALL SELECT h.case_id, h.unit_id, 0 FROM case_holding h WHERE {where_h}
    UNION ALL SELECT t.case_id, t.to_unit_id, 0 FROM case_transfer t WHERE t.status = :pending AND {where_t}
    UNION ALL SELECT d.case_id, d.unit_id, 0 FROM case_delegation d WHERE {where_d}
),
up(unit_id, anc_id, tier, parent_id, self) AS (
    SELECT u.id, u.id, u.tier, u.parent_id, 1 FROM org_unit u WHERE u.id IN (SELECT unit_id FROM seeds)
    UNION ALL
    SELECT up.unit_id, p.id, p.tier, p.parent_id, 0 FROM up JOIN org_unit p ON p.id = up.parent_id
    WHERE up.tier <> :station
),
rows_(case_id, unit_id, held) AS (
    SELECT s.case_id, up.anc_id,
           MAX(CASE WHEN s.held = 2 AND up.self = 1 THEN 2 WHEN s.held = 2 THEN 1 ELSE 0 END)
    FROM seeds s JOIN up ON up.unit_id = s.unit_id
    GROUP BY s.case_id, up.anc_id
)
SELECT r.case_id, r.unit_id, r.held, c.restricted, c.status, c.intake_date,
       CASE WHEN c.status IN :clock AND c.due_date IS NOT NULL THEN c.due_date ELSE :far_due END, c.year, c.seq
FROM rows_ r JOIN case_record c ON c.id = r.case_id
"""
_COLUMNS = ("case_id", "unit_id", "held", "restricted", "status", "intake_date", "due_key", "year", "seq")
_table = CaseVisibility.__table__
BATCH = 500  # cases per statement when refreshing a list of ids
REBUILD_BATCH = 20_000  # case ids per statement in a rebuild


def _select(where: str) -> str:
    return _SELECT.format(**{f"where_{k}": where.format(col=f"{k}.{'id' if k == 'c' else 'case_id'}")
                             for k in "chtd"})


_INSERT = f"INSERT INTO case_visibility ({', '.join(_COLUMNS)}) "
_CLOCK = sa.bindparam("clock", expanding=True)
_INSERT_IDS = sa.text(_INSERT + _select("{col} IN :ids")).bindparams(sa.bindparam("ids", expanding=True), _CLOCK)
_INSERT_RANGE = sa.text(_INSERT + _select("{col} >= :lo AND {col} < :hi")).bindparams(_CLOCK)
_SELECT_ALL = sa.text(_select("1 = 1")).bindparams(_CLOCK)


def _params() -> dict:
    return {"pending": TransferStatus.PENDING.value, "station": Tier.STATION.value, "far_due": FAR_DUE,
            "clock": sorted(s.value for s in OPEN_STATUSES)}


def refresh(connection: sa.Connection, case_ids: Iterable[int]) -> None:
    """Rewrite the visibility rows of these cases from what the database holds now
    (a case that no longer exists keeps none)."""
    ids = sorted({i for i in case_ids if i is not None})
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        connection.execute(sa.delete(_table).where(_table.c.case_id.in_(batch)))
        connection.execute(_INSERT_IDS, {"ids": batch, **_params()})


def rebuild(connection: sa.Connection) -> int:
    """Empty ``case_visibility`` and compute it again from the cases, holdings, transfers,
    delegations and units, in set-based statements of REBUILD_BATCH case ids each.
    Returns the number of rows written. Call it after inserting any of those rows in bulk
    (outside the ORM), in the same transaction or the next."""
    connection.execute(sa.delete(_table))
    top = connection.scalar(sa.select(sa.func.max(Case.id))) or 0
    for lo in range(0, top + 1, REBUILD_BATCH):
        connection.execute(_INSERT_RANGE, {"lo": lo, "hi": lo + REBUILD_BATCH, **_params()})
    return connection.scalar(sa.select(sa.func.count()).select_from(_table)) or 0


def differences(connection: sa.Connection) -> tuple[set, set]:
    """(rows kept but not computed, rows computed but not kept): empty sets when the table
    is what ``rebuild`` would write. For tests and ``rebuild-visibility --check``."""
    kept = set(connection.execute(sa.select(*[_table.c[c] for c in _COLUMNS])))
    computed = {_normal(r) for r in connection.execute(_SELECT_ALL, _params())}
    kept = {_normal(r) for r in kept}
    return kept - computed, computed - kept


def _normal(row) -> tuple:
    """A row as plain values (a raw SELECT gives strings and 0/1 where the table gives
    enums, dates and booleans, depending on the engine)."""
    case_id, unit_id, held, restricted, status, intake, due, year, seq = row
    return (case_id, unit_id, int(held), bool(restricted), getattr(status, "value", status), str(intake)[:10],
            str(due)[:10], year, seq)


# --- listeners: rows change in the flush that changes what they are computed from ---------

_PENDING = "visibility_pending"
# Columns (and the relationships that set them) that a row of case_visibility depends on.
_CASE_FIELDS = ("unit", "unit_id", "status", "restricted", "intake_date", "due_date", "year", "seq")
_MOVE_FIELDS = {Transfer: ("status", "to_unit", "to_unit_id", "case_id"),
                CaseHolding: ("unit", "unit_id", "case_id"), Delegation: ("unit", "unit_id", "case_id")}


def _pending(target) -> dict[str, set[int]] | None:
    session = object_session(target)
    if session is None:
        return None
    return session.info.setdefault(_PENDING, {"cases": set(), "units": set()})


def _changed(target, fields: Iterable[str]) -> bool:
    state = sa.inspect(target)
    return any(state.attrs[f].history.has_changes() for f in fields)


def _note_case(_mapper, _connection, target) -> None:
    if (pending := _pending(target)) is not None:
        pending["cases"].add(target.id)


def _note_case_update(mapper, connection, target) -> None:
    if _changed(target, _CASE_FIELDS):
        _note_case(mapper, connection, target)


def _note_move(_mapper, _connection, target) -> None:
    if (pending := _pending(target)) is not None:
        pending["cases"].add(target.case_id)
        old = sa.inspect(target).attrs.case_id.history.deleted  # a row moved to another case
        pending["cases"].update(i for i in old or () if i is not None)


def _note_move_update(mapper, connection, target) -> None:
    if _changed(target, _MOVE_FIELDS[type(target)]):
        _note_move(mapper, connection, target)


def _note_unit_update(_mapper, _connection, target) -> None:
    """A unit moved in the tree (its path had been set before: a new unit's first path
    is no move, and a new unit sees no case yet)."""
    state = sa.inspect(target)
    moved = any(old for old in state.attrs.path.history.deleted) or _changed(target, ("tier",)) or any(
        old is not None for old in state.attrs.parent_id.history.deleted)
    if moved and (pending := _pending(target)) is not None:
        pending["units"].add(target.id)


event.listen(Case, "after_insert", _note_case)
event.listen(Case, "after_update", _note_case_update)
for _cls in _MOVE_FIELDS:
    event.listen(_cls, "after_insert", _note_move)
    event.listen(_cls, "after_update", _note_move_update)
    event.listen(_cls, "after_delete", _note_move)
event.listen(OrgUnit, "after_update", _note_unit_update)


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    connection = session.connection()
    cases = set(pending["cases"])
    if pending["units"]:  # a unit moved: every case it saw has other ancestors now
        cases |= set(connection.scalars(sa.select(_table.c.case_id).distinct()
                                        .where(_table.c.unit_id.in_(pending["units"]))))
    if cases:
        refresh(connection, cases)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)
