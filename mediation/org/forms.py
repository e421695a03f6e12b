"""Forms for editing the network."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..forms import AppForm


class UnitAddForm(AppForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Please enter a code.")), Length(max=32, message=_l("At most 32 characters."))],
        description=_l("The 12-digit division code for a village, 9 digits for a town or street."),
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Please enter a name.")), Length(max=64, message=_l("At most 64 characters."))],
    )
    submit = SubmitField(_l("Add"))


class UnitRenameForm(AppForm):
    stamp = HiddenField()  # the values the form was filled from (optimistic locking, stamps.py)
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Please enter a name.")), Length(max=64, message=_l("At most 64 characters."))],
    )
    submit = SubmitField(_l("Rename"))


class UnitMoveForm(AppForm):
    parent = SelectField(_l("New platform"), coerce=int, validate_choice=True)
    submit = SubmitField(_l("Move"))
