"""The diary entry form; each party's position is added per case in the view."""
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..forms import AppForm, Checkboxes, ComingDateField, PastDateField
from ..labels import ENTRY_KIND_LABELS, MODE_LABELS, PERFORMANCE_LABELS, SATISFACTION_LABELS
from .models import EntryKind, Performance, Satisfaction, SessionMode


def _len(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


def _choices(enum_cls, labels, blank=True):
    return ([("", "—")] if blank else []) + [(m.value, labels[m]) for m in enum_cls]


# A follow-up visit has its own form (FollowUpForm), not the session's fields.
SESSION_KINDS = [k for k in EntryKind if k is not EntryKind.FOLLOW_UP]


class EntryForm(AppForm):
    """A session, investigation, home visit, call or other contact."""

    kind = SelectField(_l("Kind"), choices=[(k.value, ENTRY_KIND_LABELS[k]) for k in SESSION_KINDS])
    occurred_on = PastDateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    start_time = TimeField(_l("Time"), validators=[Optional()])
    duration_minutes = IntegerField(_l("Duration (minutes)"), validators=[
        Optional(), NumberRange(min=1, max=1440, message=_l("Enter minutes from 1 to 1440."))],
        render_kw={"inputmode": "numeric"})
    place = StringField(_l("Place"), validators=[_len(200)])
    mode = SelectField(_l("How it was held"), choices=_choices(SessionMode, MODE_LABELS), default="")
    party_ids = Checkboxes(_l("Parties present"), coerce=int, validate_choice=True)
    mediator_ids = Checkboxes(_l("Mediators present"), coerce=int, validate_choice=True)
    others_present = StringField(_l("Others present (with the parties' consent)"), validators=[_len(500)],
                                 render_kw={"placeholder": _l("e.g. relatives, a lawyer, the grid worker")})
    issues = TextAreaField(_l("Issues discussed"), validators=[_len(10000)], render_kw={"rows": 3})
    proposals = TextAreaField(_l("Proposals"), validators=[_len(10000)], render_kw={"rows": 3})
    result = TextAreaField(_l("Result and progress"), validators=[_len(10000)], render_kw={"rows": 3})
    next_step = TextAreaField(_l("Next step"), validators=[_len(2000)], render_kw={"rows": 2})
    next_date = ComingDateField(_l("Next date"), validators=[Optional()])
    confidential = BooleanField(_l("Confidential (a separate session): only the case's mediators see it"))


class FollowUpForm(AppForm):
    """回访 (DOCUMENTS.md §4, 回访记录): who was visited, how, when and by whom; each term of
    the agreement performed or not (the view adds one choice per term); satisfaction; what
    was found; the risk that remains; the next step. Not the session's fields."""

    kind = HiddenField(default=EntryKind.FOLLOW_UP.value)
    occurred_on = PastDateField(_l("Date of the visit"), validators=[InputRequired(_l("Enter the date."))])
    start_time = TimeField(_l("Time"), validators=[Optional()])
    duration_minutes = IntegerField(_l("Duration (minutes)"), validators=[
        Optional(), NumberRange(min=1, max=1440, message=_l("Enter minutes from 1 to 1440."))],
        render_kw={"inputmode": "numeric"})
    mode = SelectField(_l("How the visit was made"), default="", choices=[
        ("", _l("Home visit")), (SessionMode.PHONE.value, MODE_LABELS[SessionMode.PHONE]),
        (SessionMode.VIDEO.value, MODE_LABELS[SessionMode.VIDEO]),
        (SessionMode.JOINT.value, _l("Talk in person (office)"))])
    place = StringField(_l("Place"), validators=[_len(200)])
    party_ids = Checkboxes(_l("Parties visited"), coerce=int, validate_choice=True)
    mediator_ids = Checkboxes(_l("Visited by"), coerce=int, validate_choice=True)
    others_present = StringField(_l("Others present"), validators=[_len(500)],
                                 render_kw={"placeholder": _l("e.g. relatives, the grid worker")})
    # Asked only when the agreement has no terms to go through one by one.
    performance = SelectField(_l("Agreement performed"), choices=_choices(Performance, PERFORMANCE_LABELS),
                              default="")
    satisfaction = SelectField(_l("Satisfaction"), choices=_choices(Satisfaction, SATISFACTION_LABELS), default="")
    result = TextAreaField(_l("Findings of the visit"), validators=[_len(10000)], render_kw={
        "rows": 3, "placeholder": _l("e.g. payments made, any lawsuit, signs of a wrong settlement, measures taken")})
    remaining_risk = TextAreaField(_l("Remaining risk"), validators=[_len(2000)], render_kw={"rows": 2})
    next_step = TextAreaField(_l("Next step"), validators=[_len(2000)], render_kw={"rows": 2})
    next_date = ComingDateField(_l("Next date"), validators=[Optional()])


class AmendForm(AppForm):
    text = TextAreaField(_l("Correction"), validators=[InputRequired(_l("Write the correction.")), _len(10000)],
                         render_kw={"rows": 3})
    reason = StringField(_l("Reason"), validators=[InputRequired(_l("Please give a reason.")), _len(500)])
