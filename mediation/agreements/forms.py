"""The agreement form (terms as repeating rows) and the confirmation form."""
from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..forms import AppForm, PastDateField, SubForm
from ..labels import AGREEMENT_KIND_LABELS, CONFIRMATION_LABELS
from .models import AgreementKind, Confirmation


def _len(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


class TermForm(SubForm):

    content = TextAreaField(_l("Term"), validators=[_len(5000)], render_kw={"rows": 2})
    method = StringField(_l("Method of performance"), validators=[_len(500)],
                         render_kw={"placeholder": _l("e.g. bank transfer to the applicant")})
    deadline = StringField(_l("Deadline"), validators=[_len(200)],
                           render_kw={"placeholder": _l("e.g. before the 5th of each month")})

    def validate_content(self, field):
        if not (field.data or "").strip() and ((self.method.data or "").strip() or (self.deadline.data or "").strip()):
            raise ValidationError(_l("Write the term, or clear its method and deadline."))


class AgreementForm(AppForm):
    kind = SelectField(_l("Kind of agreement"), choices=[(k.value, AGREEMENT_KIND_LABELS[k]) for k in AgreementKind])
    reached_on = PastDateField(_l("Reached on"), validators=[InputRequired(_l("Enter the date."))])
    facts = TextAreaField(_l("Main facts"), validators=[_len(10000)], render_kw={"rows": 4})
    disputed_points = TextAreaField(_l("Points in dispute and each party's responsibility"),
                                    validators=[_len(10000)], render_kw={"rows": 3})
    terms = FieldList(FormField(TermForm), label=_l("Term"), min_entries=5, max_entries=50)
    version = HiddenField()  # the agreement's version the form was filled from ("0": none yet)
    copies = IntegerField(_l("Copies"), validators=[Optional(), NumberRange(min=1, max=20, message=_l(
        "Enter a number from 1 to 20."))], render_kw={"inputmode": "numeric"})


class ConfirmationForm(AppForm):
    status = SelectField(_l("Judicial confirmation"), choices=[(c.value, CONFIRMATION_LABELS[c]) for c in Confirmation])
    applied_on = PastDateField(_l("Applied on"), validators=[Optional()])
    decided_on = PastDateField(_l("Decided on"), validators=[Optional()])
    court = StringField(_l("Court"), validators=[_len(100)])
    note = TextAreaField(_l("Note"), validators=[_len(2000)], render_kw={"rows": 2})
