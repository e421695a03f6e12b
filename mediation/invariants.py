"""What must hold of the cases in any database, however they were made (through the services,
by the demo loader or by the generator): ``check()`` returns the problems found.

* the timeline: it starts with "created", its steps follow each other (each leaves from the
  status the one before reached) in time order, before today, and end in the case's status;
* the dates the steps set: accepted (with the due date 30 days on), concluded with an outcome,
  closed, archived, declined with its reason, in order;
* the holder and the holdings: one open holding at the holder once a case has moved, each
  accepted transfer opening one, a pending transfer exactly while the case is pending;
* numbering: number, station and year agree, the counter is at or past every number;
* diary entries dated from intake to today, written by a unit that held the case; a settled case
  has its agreement; leads point back at their cases; parties' ID hashes fit their numbers;
* the derived tables: the search documents are those the index would write now, the
  statistics' aggregates equal a recount, the audit chain verifies.

Reads everything into memory: meant for tests and samples (``case_ids``), not for a check of
a million cases at once.
"""
from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import select

from . import audit, visibility
from .agreements.models import Agreement, AgreementTerm
from .cases.models import Case, CaseEvent, CaseNumberCounter, CaseStatus, Outcome
from .crypto import cipher_for
from .diary.models import DiaryEntry, EntryKind
from .extensions import db
from .leads.models import Lead, LeadStatus
from .search.index import _case, _case_docs, _docs, _entry, _entry_docs, _party
from .search.models import SearchDoc
from .stats import aggregates
from .timeutil import local_date_of, local_today, utc_start_of
from .transfers.models import CaseHolding, Transfer, TransferStatus

S = CaseStatus
NOT_STEPS = {"created", "edited", "diary", "diary_edited", "screened", "agreement", "confirmation", "printed",
             "delegation_done", "attachment", "risk", "amendment"}


def check(case_ids=None, *, derived: bool = True, limit: int = 50) -> list[str]:
    """Problems found (empty: all hold). ``case_ids``: only these cases (derived tables are
    then checked for them too, except the aggregates and the audit chain, which are whole)."""
    out: list[str] = []
    stmt = select(Case)
    if case_ids is not None:
        stmt = stmt.where(Case.id.in_(list(case_ids)))
    cases = list(db.session.scalars(stmt.order_by(Case.id)))
    ids = [c.id for c in cases]
    by_case = lambda model, col=None: _grouped(model, ids, col)  # noqa: E731
    events, holdings, transfers = by_case(CaseEvent), by_case(CaseHolding), by_case(Transfer)
    entries = by_case(DiaryEntry)
    agreements = {a.case_id: a for a in _rows(Agreement, Agreement.case_id, ids)}
    terms = defaultdict(list)
    for t in _rows(AgreementTerm, AgreementTerm.agreement_id, [a.id for a in agreements.values()]):
        terms[t.agreement_id].append(t)
    cutoff = utc_start_of(local_today() + timedelta(days=1))
    days = current_app.config["MEDIATION_TIME_LIMIT_DAYS"]
    counters = {(c.station_id, c.year): c.last_seq for c in db.session.scalars(select(CaseNumberCounter))}
    cipher = cipher_for()

    for case in cases:
        def bad(msg, case=case):
            out.append(f"{case.number} (id {case.id}): {msg}")

        # The timeline.
        evs = sorted(events[case.id], key=lambda e: e.id)
        if not evs or evs[0].kind != "created" or evs[0].to_status is not S.REGISTERED:
            bad("the timeline does not start with its registration")
            continue
        status = S.REGISTERED
        for prev, e in zip(evs, evs[1:], strict=False):
            if e.at < prev.at:
                bad(f"event {e.id} ({e.kind}) is dated before the event before it")
        for e in evs:
            if e.at >= cutoff:
                bad(f"event {e.id} ({e.kind}) is dated after today")
            if e.kind in NOT_STEPS:
                continue
            if e.from_status is not status:
                bad(f"step {e.kind} leaves from {e.from_status} but the case was {status}")
            status = e.to_status
        if status is not case.status:
            bad(f"the timeline ends at {status}, the case is {case.status}")
        kinds = [e.kind for e in evs]
        # Dates.
        if (case.accepted_at is not None) != ("accept" in kinds):
            bad("accepted_at and the accept step disagree")
        if case.accepted_at is not None:
            if case.accepted_at < case.created_at:
                bad("accepted before it was registered")
            # The limit runs from acceptance, or from the last reopening (mediation started again).
            reopened = [e.at for e in evs if e.kind == "reopen"]
            start = reopened[-1] if reopened else case.accepted_at
            if case.due_date != local_date_of(start) + timedelta(days=days):
                bad("the due date is not the time limit after acceptance (or the last reopening)")
        if case.status in (S.CONCLUDED, S.FOLLOW_UP, S.CLOSED) and (case.outcome is None
                                                                    or case.concluded_at is None):
            bad(f"{case.status.value} without an outcome")
        if case.status in (S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION, S.REGISTERED) and case.outcome is not None:
            bad(f"{case.status.value} with an outcome")
        if case.status is S.CLOSED and case.closed_at is None:
            bad("closed without closed_at")
        if case.status is S.ARCHIVED and case.archived_at is None:
            bad("archived without archived_at")
        if case.status is S.DECLINED and not case.decline_reason:
            bad("declined without a reason")
        for a, b in (("accepted_at", "concluded_at"), ("concluded_at", "closed_at"), ("closed_at", "archived_at")):
            x, y = getattr(case, a), getattr(case, b)
            if x is not None and y is not None and y < x:
                bad(f"{b} before {a}")
        if case.outcome in (Outcome.SUCCESS, Outcome.PARTIAL):
            agreement = agreements.get(case.id)
            if agreement is None or not terms[agreement.id]:
                bad("settled without an agreement and its terms")
        if case.status in (S.CLOSED,) and not entries[case.id]:
            bad("closed without a diary entry")
        # Holder and holdings.
        hs = sorted(holdings[case.id], key=lambda h: h.id)
        accepted = [t for t in transfers[case.id] if t.status is TransferStatus.ACCEPTED]
        pending = [t for t in transfers[case.id] if t.status is TransferStatus.PENDING]
        if (case.status is S.PENDING) != bool(pending) or len(pending) > 1:
            bad("pending status and pending transfers disagree")
        if hs:
            open_ = [h for h in hs if h.until is None]
            if len(open_) != 1 or open_[0].unit_id != case.unit_id or hs[-1] is not open_[0]:
                bad("the open holding is not the holder's")
            if hs[0].unit_id != case.origin_unit_id or hs[0].transfer_id is not None:
                bad("the first holding is not the registering unit's")
            for a, b in zip(hs, hs[1:], strict=False):
                if a.until != b.since:
                    bad("the holdings do not follow each other")
            if sorted(h.transfer_id for h in hs[1:]) != sorted(t.id for t in accepted):
                bad("the holdings are not the accepted transfers")
        elif accepted or case.unit_id != case.origin_unit_id:
            bad("moved without holdings")
        # Numbering.
        station = case.unit.station
        if station is None or station.id != case.station_id or case.origin_unit.station.id != case.station_id:
            bad("the station is not the holder's district")
        if case.year != case.intake_date.year or f"第{case.seq:04d}号" not in case.number \
                or not case.number.startswith(f"（{case.year}）"):
            bad("number, year and sequence disagree")
        if counters.get((case.station_id, case.year), 0) < case.seq:
            bad("the counter is behind the number")
        # Diary.
        units = {case.origin_unit_id, case.unit_id} | {h.unit_id for h in hs}
        for e in entries[case.id]:
            if not case.intake_date <= e.occurred_on <= local_today():
                bad(f"diary entry {e.id} is dated outside intake..today")
            if e.unit_id not in units:
                bad(f"diary entry {e.id} names a unit that never held the case")
            if e.kind is EntryKind.FOLLOW_UP and e.performance is None:
                bad(f"follow-up visit {e.id} without performance")
        # Lead and parties.
        if case.lead_id is not None:
            lead = db.session.get(Lead, case.lead_id)
            if lead is None or lead.case_id != case.id or lead.status is not LeadStatus.CONVERTED:
                bad("the lead does not point back at its case")
        roles = {p.role.value for p in case.parties}
        if not {"applicant", "respondent"} <= roles:
            bad("no applicant or no respondent")
        for p in case.parties:
            if p.id_hash != cipher.hash(p.id_number):
                bad(f"party {p.id}: the ID hash does not fit the number")
        if len(out) >= limit:
            return out

    if derived:
        out += _search_problems(ids, limit)
        if case_ids is None:
            out += [f"statistics: {m}" for m in aggregates.mismatches(db.session.connection(), limit)]
            stale, missing = visibility.differences(db.session.connection())
            if stale or missing:
                out.append(f"case_visibility: {len(stale)} rows too many, {len(missing)} missing")
            result = audit.verify()
            if not result.ok:
                out.append(f"audit chain: {result.problem}")
    return out[:limit] if len(out) > limit else out


def _rows(model, col, ids):
    out = []
    ids = list(ids)
    for start in range(0, len(ids), 1000):
        out += db.session.scalars(select(model).where(col.in_(ids[start:start + 1000]))).all()
    return out


def _grouped(model, ids, col=None):
    col = col if col is not None else model.case_id
    out = defaultdict(list)
    for row in _rows(model, col, ids):
        out[getattr(row, col.key)].append(row)
    return out


def _key(d) -> tuple:
    return (d["case_id"], d["kind"], d["source_id"], d["part"], bool(d["confidential"]), d["author_id"],
            d["content"], d["tokens"])


def _search_problems(ids, limit) -> list[str]:
    """The documents of these cases are those the index would write from the rows now."""
    conn = db.session.connection()
    out = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        want = [d for row in conn.execute(sa.select(_case).where(_case.c.id.in_(chunk))) for d in _case_docs(row)]
        want += [d for row in conn.execute(sa.select(_party).where(_party.c.case_id.in_(chunk)))
                 for d in _docs("party", row.id, row.case_id, row.name)]
        want += _entry_docs(conn, conn.execute(sa.select(_entry).where(_entry.c.case_id.in_(chunk))))
        t = SearchDoc.__table__
        have = [dict(r._mapping) for r in conn.execute(sa.select(t).where(t.c.case_id.in_(chunk)))]
        a, b = sorted(map(_key, have), key=str), sorted(map(_key, want), key=str)
        if a != b:
            missing = set(b) - set(a)
            extra = set(a) - set(b)
            out.append(f"search index: {len(missing)} documents missing, {len(extra)} not expected "
                       f"(cases {chunk[0]}–{chunk[-1]})")
            if len(out) >= limit:
                break
    return out
