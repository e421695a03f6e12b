"""The screening form (16 questions, each yes / no / unsure), risk level changes, safety plan."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired

from ..cases.forms import _len
from ..forms import AppForm
from ..labels import RISK_LABELS
from .scoring import ITEMS, NO, UNSURE, YES

ANSWER_CHOICES = [(YES, _l("yes")), (NO, _l("no")), (UNSURE, _l("not sure"))]
OCCASION_LABELS_KEY = "occasion"


class ScreeningForm(AppForm):
    party = SelectField(_l("Party asked"), coerce=int, validate_choice=True,
                        validators=[InputRequired(_l("Choose a party of this case."))])
    occasion = SelectField(_l("Occasion"))
    asked_alone = BooleanField(_l("I asked this party alone, with the other party not present or listening"))
    unsafe_tonight = BooleanField(_l("Is it unsafe for this party to go home tonight?"))
    breach = BooleanField(_l("Has a warning letter or protection order been breached?"))
    child_harmed = BooleanField(_l("Has a child been harmed?"))
    note = TextAreaField(_l("Note (seen only by the case's mediators)"), validators=[_len(2000)],
                         render_kw={"rows": 2})


for _item in ITEMS:
    setattr(ScreeningForm, f"q{_item.number}", RadioField(
        _item.text, choices=ANSWER_CHOICES, validators=[InputRequired(_l("Answer every question."))]))


class RiskForm(AppForm):
    risk_level = SelectField(_l("New risk level"))
    reason = TextAreaField(_l("Reason"), validators=[_len(2000)], render_kw={"rows": 2})

    def set_levels(self, levels) -> None:
        self.risk_level.choices = [(lv.value, RISK_LABELS[lv]) for lv in levels]


class SafetyPlanForm(AppForm):
    measures = TextAreaField(_l("Safety plan: contacts, where to go, how to reach help, who checks in"),
                             validators=[DataRequired(_l("Write down the safety measures.")), _len(4000)],
                             render_kw={"rows": 4})
