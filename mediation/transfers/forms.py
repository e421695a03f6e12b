"""Forms for escalation, hand-down, accepting, referral and delegation."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired

from ..cases.forms import AssignForm, _choices, _len
from ..forms import AppForm, ComingDateField, PastDateField
from ..labels import ESCALATION_REASON_LABELS, REFERRAL_DESTINATION_LABELS, URGENCY_LABELS
from .models import EscalationReason, ReferralDestination, Urgency

_UP_REASONS = [m for m in EscalationReason if m is not EscalationReason.LOCAL_FOLLOW_UP]
_DOWN_REASONS = [EscalationReason.LOCAL_FOLLOW_UP, EscalationReason.CROSS_AREA, EscalationReason.PARTY_REQUEST,
                 EscalationReason.OTHER]


class SendForm(AppForm):
    """Escalate (上报) or hand down (下派)."""

    to_unit = SelectField(_l("Send to"), coerce=int, validate_choice=True,
                          validators=[InputRequired(_l("Choose the unit."))])
    reason_code = SelectField(_l("Reason"), validators=[DataRequired(_l("Choose the reason."))])
    reason_text = TextAreaField(_l("Explain the reason"), validators=[_len(2000)], render_kw={"rows": 2})
    urgency = SelectField(_l("Urgency"), choices=_choices(Urgency, URGENCY_LABELS), default=Urgency.NORMAL.value)
    note = TextAreaField(_l("Note for the receiving unit"), validators=[_len(2000)], render_kw={"rows": 3})

    def set_reasons(self, up: bool) -> None:
        members = _UP_REASONS if up else _DOWN_REASONS
        self.reason_code.choices = [("", "—")] + [(m.value, ESCALATION_REASON_LABELS[m]) for m in members]


class ReceiveForm(AssignForm):
    """Accepting a transfer names the mediators at once (not for a case still to be accepted)."""

    reason = None
    note = TextAreaField(_l("Note"), validators=[_len(2000)], render_kw={"rows": 2})


class ReferForm(AppForm):
    destination = SelectField(_l("Referred to"),
                              choices=[("", "—")] + _choices(ReferralDestination, REFERRAL_DESTINATION_LABELS),
                              validators=[DataRequired(_l("Choose where the case is referred to."))])
    destination_name = StringField(_l("Name of the court, police station or agency"), validators=[_len(100)])
    referred_on = PastDateField(_l("Date of the referral"),
                            validators=[InputRequired(_l("Give the date of the referral."))])
    reference = StringField(_l("Reference number (their case or document number)"), validators=[_len(64)])
    note = TextAreaField(_l("Note"), validators=[_len(2000)], render_kw={"rows": 2})
    end_case = BooleanField(_l("End the mediation with this referral (调解终止)"))
    told_other_routes = BooleanField(
        _l("The parties were told they may turn to arbitration, administrative channels or the courts"))


class ReferralResultForm(AppForm):
    referral = SelectField(_l("Referral"), coerce=int, validate_choice=True,
                           validators=[InputRequired(_l("Choose the referral whose result you record."))])
    outcome_text = TextAreaField(_l("Result"), validators=[DataRequired(_l("Record the result.")), _len(2000)],
                                 render_kw={"rows": 3})
    outcome_on = PastDateField(_l("Date of the result"), validators=[InputRequired(_l("Give the date of the result."))])


class DelegateForm(AppForm):
    to_unit = SelectField(_l("Unit asked to visit"), coerce=int, validate_choice=True,
                          validators=[InputRequired(_l("Choose the unit."))])
    instruction = TextAreaField(_l("What the visit is for"), validators=[DataRequired(_l("Say what the visit is for.")),
                                                                         _len(1000)], render_kw={"rows": 3})
    due_date = ComingDateField(_l("Visit by"), validators=[InputRequired(_l("Give a due date from today on."))])
