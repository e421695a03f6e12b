"""The legal hold on a case (station administrators), and what the case page shows of retention."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import access
from ..access import is_station_admin, require
from ..errors import DomainError
from ..extensions import db
from . import services

bp = Blueprint("retention", __name__, url_prefix="/cases/<int:case_id>")


@bp.route("/legal-hold", methods=["POST"])
@require("case.view")
def legal_hold(case_id: int):
    case = access.get_case_or_404(case_id)
    if not is_station_admin(current_user):
        abort(403)
    hold = request.form.get("hold") == "1"
    try:
        services.set_legal_hold(case, hold, reason=request.form.get("reason", ""), by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("The case is on legal hold: it will not be anonymised.") if hold
              else _("The legal hold has been released."), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="retention"))


@bp.app_template_global("retention_of")
def retention_of(case) -> dict | None:
    """What the case page shows station administrators about retention (None: nothing)."""
    if not is_station_admin(current_user):
        return None
    return {
        "expires": services.local_date(services.expiry_of(case)),
        "years": services.retention_years(case.category),
        "anonymised": services.local_date(case.anonymised_at),
        "hold": case.legal_hold,
        "reason": services.last_hold_reason(case) if case.legal_hold else "",
    }
