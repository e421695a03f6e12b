"""Showing a party's full ID number: once, for a stated reason, in the audit log.

Everywhere else the number is masked (``Party.id_masked``). Whoever may see the
case may reveal; the page is never cached.
"""
from flask import Blueprint, abort, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from .. import access, audit
from ..access import require
from ..extensions import db
from ..forms import AppForm
from ..parsing import ascii_int
from ..screening.services import revealing_visit
from .models import Party

bp = Blueprint("reveal", __name__, url_prefix="/cases/<int:case_id>/parties/<int:party_id>")


class RevealForm(AppForm):
    reason = TextAreaField(
        _l("Why do you need the full number?"),
        validators=[DataRequired(_l("Please give a reason.")), Length(max=200, message=_l("At most 200 characters."))],
        render_kw={"rows": 2},
    )


def _party_or_404(case_id: int, party_id: int):
    case = access.get_case_or_404(case_id)
    party = db.session.get(Party, party_id)
    if party is None or party.case_id != case.id or not party.id_number:
        abort(404)
    return case, party


@bp.route("/id-number", methods=["GET", "POST"])
@require("case.view")
def id_number(case_id: int, party_id: int):
    case, party = _party_or_404(case_id, party_id)
    form = RevealForm()
    shown = None
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        audit.record("reveal", target=party, details={
            "case": case.id, "number": case.number, "field": "id_number", "reason": reason})
        db.session.commit()
        shown = party.id_number
        form = RevealForm(formdata=None)
    response = make_response(render_template("cases/reveal.html", case=case, party=party, form=form, shown=shown))
    # Shown once: kept in no cache, not even the back button's.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


# --- a protected party's address and phone, for a delegated visit ------------------------

class ContactsRevealForm(AppForm):
    reason = TextAreaField(
        _l("Why do you need them?"),
        validators=[DataRequired(_l("Please give a reason.")), Length(max=200, message=_l("At most 200 characters."))],
        render_kw={"rows": 2},
    )


@bp.route("/contacts", methods=["GET", "POST"])
@require("case.view")
def contacts(case_id: int, party_id: int):
    """A protected party's address and phone for a unit given a follow-up visit on the case
    (``screening.services.contacts_revealable``): shown on request, each time in the audit
    log with the reason and the visit, while the visit is open."""
    case = access.get_case_or_404(case_id)
    party = db.session.get(Party, party_id)
    if party is None or party.case_id != case.id:
        abort(404)
    delegation = revealing_visit(current_user, case, party)
    if delegation is None:
        abort(403)
    form = ContactsRevealForm()
    if request.method == "GET":
        form.reason.data = _("Follow-up visit asked by %(unit)s: %(instruction)s", unit=case.unit.label,
                             instruction=delegation.instruction)[:200]
    shown = False
    if form.validate_on_submit():
        audit.record("reveal_contacts", target=party, details={
            "case": case.id, "number": case.number, "field": "contacts", "delegation": delegation.id,
            "reason": form.reason.data.strip()})
        db.session.commit()
        shown = True
    response = make_response(render_template("cases/reveal_contacts.html", case=case, party=party, form=form,
                                             shown=shown, delegation=delegation))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


# --- the edit form: numbers stay masked there too --------------------------------------

def unmask_ids(formdata, case):
    """The edit form shows stored ID numbers masked; a card whose number comes back still
    masked keeps the stored number (matched by its mask, preferring the same position).
    A number typed in full is taken as typed."""
    stored = [(p.position, p.id_masked, p.id_number) for p in case.parties if p.id_number]
    out = formdata.copy()
    for key in formdata:
        parts = key.split("-")
        if len(parts) != 3 or parts[0] != "parties" or parts[2] != "id_number" or ascii_int(parts[1], 0, 999) is None:
            continue
        value = (formdata.get(key) or "").strip()
        if "*" not in value:
            continue
        matches = [(position, number) for position, masked, number in stored if masked == value]
        same_place = [number for position, number in matches if position == int(parts[1])]
        if same_place or len(matches) == 1:
            out.setlist(key, [(same_place or [matches[0][1]])[0]])
    return out


def mask_ids(form, case) -> None:
    """Before the edit form is shown (again): stored numbers are shown masked."""
    masked = {p.id_number: p.id_masked for p in case.parties if p.id_number}
    for entry in form.parties.entries:
        field = entry.form.id_number
        if field.data in masked:
            field.data = masked[field.data]
