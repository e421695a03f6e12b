"""The case exchange format (``mediation-case/1``): what ``GET /api/v1/cases/{id}/export`` gives
and ``POST /api/v1/cases/import`` takes. An imported case is registered here like any other
(new number, the importing user's unit); where it came from, and the sender's history as
received (diary, agreement, follow-ups, transfers, referrals, attachment list), are kept with it."""
from flask import current_app
from sqlalchemy import select

from .. import audit
from ..audit.services import jsonable
from ..extensions import db
from ..retention.services import anonymiser
from ..timeutil import utcnow
from .models import CaseImport

FORMAT = "mediation-case/1"
HISTORY = ("diary", "agreement", "follow_ups", "transfers", "referrals", "delegations", "attachments")


def now_iso() -> str:
    return utcnow().isoformat(timespec="seconds") + "Z"


def system_name() -> str:
    """Who exports: ``API_SYSTEM_NAME``, else the case number prefix's committee."""
    return current_app.config.get("API_SYSTEM_NAME") or current_app.config["CASE_NUMBER_PREFIX"]


def import_of(case) -> CaseImport | None:
    return db.session.scalar(select(CaseImport).where(CaseImport.case_id == case.id))


def record_import(case, *, source_system: str, external_reference: str, by, token_name: str,
                  history: dict) -> CaseImport:
    row = CaseImport(case_id=case.id, source_system=source_system.strip()[:100],
                     external_reference=(external_reference or "").strip()[:100], imported_by_id=by.id,
                     token_name=token_name[:64], history=jsonable(history))
    db.session.add(row)
    db.session.flush()
    audit.record("api.import", target=case, actor=by, details={
        "number": case.number, "source_system": row.source_system, "reference": row.external_reference})
    return row


@anonymiser
def _anonymise(case) -> None:
    """Retention: the sender's history goes with the rest of the case's text."""
    db.session.execute(CaseImport.__table__.update().where(CaseImport.case_id == case.id).values(history={}))
