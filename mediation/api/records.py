"""A case's records: diary entries (list, write, amend), the agreement (read, write), safety
screenings (record, read: answers only for the case's mediators), and its transfers,
referrals and delegated visits."""
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import access
from ..agreements import services as agreements
from ..agreements.forms import AgreementForm
from ..agreements.models import AgreementKind
from ..diary import services as diary
from ..diary.forms import AmendForm
from ..diary.models import DiaryEntry
from ..diary.views import entry_form, entry_values, position_problems
from ..extensions import db
from ..screening import services as screening
from ..screening.models import Screening
from ..transfers import services as moves
from . import schemas as s
from .common import (
    PREFIX,
    ApiError,
    blueprint,
    case_or_404,
    commit,
    documented,
    etag,
    require,
    run_form,
    unit_ref,
    use_form_data,
    version_from_header,
)

bp = blueprint("api-records", "A case's diary, agreement, screenings, transfers and referrals")


# --- diary ---------------------------------------------------------------------------------------

def entry_json(case, e: DiaryEntry) -> dict:
    return {**{f: getattr(e, f) for f in diary.FIELDS}, "id": e.id, "positions": e.positions or {},
            "author": e.author.display_name, "created_at": e.created_at,
            "amendments": [{"id": a.id, "at": a.at, "by": a.by.display_name, "reason": a.reason, "text": a.text}
                           for a in e.amendments],
            "record_pdf": f"{PREFIX}/cases/{case.id}/diary/{e.id}/pdf"}


@bp.route("/cases/<int:case_id>/diary")
@bp.response(200, s.EntryList)
@documented(bp)
def diary_list(case_id: int):
    """The case's diary as the case page shows it (confidential entries for the case's mediators
    and their authors only)"""
    require("case.view")
    case = case_or_404(case_id)
    return {"items": [entry_json(case, e) for e in diary.visible_entries(current_user, case)]}


def _entry_fields(data: dict) -> dict:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in data.items() if k != "positions"}


@bp.route("/cases/<int:case_id>/diary", methods=["POST"])
@bp.arguments(s.EntryIn)
@bp.response(201, s.EntryOut)
@documented(bp)
def diary_write(data, case_id: int):
    """Write a diary entry (the diary form's rules, and what the risk level allows: no joint
    session from orange, no session at red)"""
    require("case.view")
    case = case_or_404(case_id)
    if not diary.can_write(current_user, case):
        raise ApiError(403, _("No permission"), _("The diary of this case cannot be written now."))
    positions = {str(k): v for k, v in (data.get("positions") or {}).items()}
    use_form_data(_entry_fields(data))
    # A follow-up visit (回访) has its own form, as on the page.
    form = entry_form(case, follow_up=_entry_fields(data).get("kind") == "follow_up")
    run_form(form)
    problems = position_problems(case, positions)
    if problems:
        raise ApiError(422, _("The request is not valid"),
                       errors={f"positions.{pid}": [m] for pid, m in problems.items()})
    entry = diary.write_entry(case, by=current_user, values=entry_values(form, case, positions=positions))
    commit(target=case, entry=entry.id)
    return entry_json(case, entry), 201, {"Location": f"{PREFIX}/cases/{case.id}/diary/{entry.id}"}


def _visible_entry(case, entry_id: int) -> DiaryEntry:
    entry = db.session.get(DiaryEntry, entry_id)
    if entry is None or entry.case_id != case.id or entry not in diary.visible_entries(current_user, case):
        raise ApiError(404, _("Not found"), _("This page does not exist, or it is outside your area."))
    return entry


@bp.route("/cases/<int:case_id>/diary/<int:entry_id>")
@bp.response(200, s.EntryOut)
@documented(bp)
def diary_entry(case_id: int, entry_id: int):
    """One diary entry with its amendments"""
    require("case.view")
    case = case_or_404(case_id)
    return entry_json(case, _visible_entry(case, entry_id))


@bp.route("/cases/<int:case_id>/diary/<int:entry_id>/amendments", methods=["POST"])
@bp.arguments(s.AmendmentIn)
@bp.response(201, s.EntryOut)
@documented(bp)
def diary_amend(data, case_id: int, entry_id: int):
    """Amend an entry: a correction with its reason, appended (the entry stays as written)"""
    require("case.view")
    case = case_or_404(case_id)
    entry = _visible_entry(case, entry_id)
    if not access.acts_on(current_user, case):
        raise ApiError(403, _("No permission"), _("You may not do this on this case."))
    use_form_data(data)
    form = AmendForm()
    run_form(form)
    diary.amend(entry, case, by=current_user, reason=form.reason.data, text=form.text.data)
    commit(target=case, entry=entry.id)
    return entry_json(case, entry), 201


# --- agreement -------------------------------------------------------------------------------------

def agreement_json(case, a) -> dict:
    return {"kind": a.kind, "reached_on": a.reached_on, "facts": a.facts, "disputed_points": a.disputed_points,
            "copies": a.copies, "terms": [{"content": t.content, "method": t.method, "deadline": t.deadline}
                                          for t in a.terms],
            "confirmation": a.confirmation, "confirmation_applied_on": a.confirmation_applied_on,
            "confirmation_decided_on": a.confirmation_decided_on, "confirmation_court": a.confirmation_court,
            "version": a.version, "updated_at": a.updated_at, "pdf": f"{PREFIX}/cases/{case.id}/pdf/agreement"}


@bp.route("/cases/<int:case_id>/agreement")
@bp.response(200, s.AgreementOut, headers={"ETag": {"schema": {"type": "string"}}})
@documented(bp)
def agreement_read(case_id: int):
    """The case's agreement (404 while none is recorded); the ETag is its version"""
    require("case.view")
    case = case_or_404(case_id)
    agreement = agreements.agreement_of(case)
    if agreement is None:
        raise ApiError(404, _("Not found"), _("No agreement is recorded for this case."))
    return agreement_json(case, agreement), 200, {"ETag": etag(agreement.version)}


@bp.route("/cases/<int:case_id>/agreement", methods=["PUT"])
@bp.arguments(s.AgreementIn)
@bp.response(200, s.AgreementOut, headers={"ETag": {"schema": {"type": "string"}}})
@bp.doc(parameters=[{"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
                     "description": "the agreement's version read (\"0\" when there was none); 412 when stale"}])
@documented(bp, 412)
def agreement_write(data, case_id: int):
    """Record or replace the agreement while the case is in mediation (its terms, kind and date)"""
    require("case.view")
    case = case_or_404(case_id)
    if not agreements.can_edit(current_user, case):
        raise ApiError(403, _("No permission"), _("The agreement can be recorded only while the case is in "
                                                  "mediation."))
    version = version_from_header(required=False)
    expected = None
    if version is not None:
        expected = int(version) if version.isdigit() and len(version) < 10 else -1
    use_form_data({**{k: (v.value if hasattr(v, "value") else v) for k, v in data.items()}})
    form = AgreementForm()
    run_form(form)
    current = agreements.agreement_of(case)
    if expected is not None and (current.version if current else 0) != expected:
        raise ApiError(412, _("Changed meanwhile"), agreements.stale_message(current) if current else
                       _("The agreement was removed meanwhile; reload the page."))
    agreement = agreements.save_agreement(
        case, by=current_user, kind=AgreementKind(form.kind.data), reached_on=form.reached_on.data,
        facts=form.facts.data or "", disputed_points=form.disputed_points.data or "", copies=form.copies.data,
        terms=[e.form.data for e in form.terms.entries], expected_version=expected)
    commit(target=case)
    return agreement_json(case, agreement), 200, {"ETag": etag(agreement.version)}


# --- screening -----------------------------------------------------------------------------------------

def screening_json(case, sc: Screening, sees: bool) -> dict:
    out = {"id": sc.id, "party": sc.party_id, "occasion": sc.occasion, "level": sc.level, "at": sc.at,
           "by": sc.by.display_name, "answers_shown": sees}
    if sees:
        out.update({"answers": sc.answers, "score": float(sc.score), "unsafe_tonight": sc.unsafe_tonight,
                    "breach": sc.breach, "child_harmed": sc.child_harmed, "note": sc.note})
    return out


def _sees(case, sc: Screening) -> bool:
    """As the screening page: the case's mediators, and whoever recorded it."""
    return screening.sees_answers(current_user, case) or sc.by_id == current_user.id


@bp.route("/cases/<int:case_id>/screenings")
@bp.response(200, s.ScreeningList)
@documented(bp)
def screening_list(case_id: int):
    """The case's screenings: level, occasion and when for all who see the case; the answers only
    for the case's mediators"""
    require("case.view")
    case = case_or_404(case_id)
    return {"items": [screening_json(case, sc, _sees(case, sc)) for sc in screening.screenings_of(case)],
            "risk_level": case.risk_level}


@bp.route("/cases/<int:case_id>/screenings/<int:screening_id>")
@bp.response(200, s.ScreeningOut)
@documented(bp)
def screening_read(case_id: int, screening_id: int):
    """One screening"""
    require("case.view")
    case = case_or_404(case_id)
    sc = db.session.scalar(select(Screening).where(Screening.id == screening_id, Screening.case_id == case.id))
    if sc is None:
        raise ApiError(404, _("Not found"), _("This page does not exist, or it is outside your area."))
    return screening_json(case, sc, _sees(case, sc))


@bp.route("/cases/<int:case_id>/screenings", methods=["POST"])
@bp.arguments(s.ScreeningIn)
@bp.response(201, s.ScreeningOut)
@documented(bp)
def screening_create(data, case_id: int):
    """Record a party's screening (asked alone; all 16 questions). The level is computed, and
    the case's level never falls by it."""
    require("case.view")
    case = case_or_404(case_id)
    if not screening.may_screen(current_user, case):
        raise ApiError(403, _("No permission"), _("You may not do this on this case."))
    party = next((p for p in case.parties if p.id == data["party"]), None)
    if party is None:
        raise ApiError(422, _("The request is not valid"), errors={"party": [_("Choose a party of this case.")]})
    sc = screening.record(case, party, occasion=data["occasion"], by=current_user, answers=data["answers"],
                          unsafe_tonight=data.get("unsafe_tonight", False), breach=data.get("breach", False),
                          child_harmed=data.get("child_harmed", False), note=data.get("note", ""),
                          asked_alone=data["asked_alone"])
    commit(target=case, screening=sc.id)
    return screening_json(case, sc, _sees(case, sc)), 201


# --- transfers and referrals ----------------------------------------------------------------------------

def transfer_json(t) -> dict:
    return {"id": t.id, "kind": t.kind, "status": t.status, "from_unit": unit_ref(t.from_unit),
            "to_unit": unit_ref(t.to_unit), "reason": t.reason, "reason_text": t.reason_text, "urgency": t.urgency,
            "note": t.note, "created_at": t.created_at, "decided_at": t.decided_at, "decision_note": t.decision_note}


def referral_json(r) -> dict:
    return {"id": r.id, "destination": r.destination, "destination_name": r.destination_name,
            "referred_on": r.referred_on, "reference": r.reference, "note": r.note, "outcome": r.outcome,
            "outcome_on": r.outcome_on, "open": r.is_open}


def delegation_json(d) -> dict:
    return {"id": d.id, "unit": unit_ref(d.unit), "instruction": d.instruction, "due_date": d.due_date,
            "status": d.status}


@bp.route("/cases/<int:case_id>/transfers")
@bp.response(200, s.Moves)
@documented(bp)
def transfers(case_id: int):
    """Escalations and hand-downs, referrals out (with their results) and delegated visits
    (new ones are workflow steps: POST .../transitions/escalate, refer, ...)"""
    require("case.view")
    case = case_or_404(case_id)
    return {"transfers": [transfer_json(t) for t in moves.transfers_of(case)],
            "referrals": [referral_json(r) for r in moves.referrals_of(case)],
            "delegations": [delegation_json(d) for d in moves.delegations_of(case)]}

