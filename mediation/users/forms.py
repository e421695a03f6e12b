"""Forms for logging in and managing accounts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..labels import ROLE_LABELS
from .models import Role


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Please enter your username."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password."))])
    submit = SubmitField(_l("Log in"))


class PasswordChangeForm(FlaskForm):
    old_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Please enter your current password."))]
    )
    password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Please enter a new password."))]
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[EqualTo("password", _l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


def role_choices():
    return [(r.value, ROLE_LABELS[r]) for r in Role]


class UserEditForm(FlaskForm):
    display_name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Please enter a name.")), Length(max=64, message=_l("At most 64 characters."))],
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20, message=_l("At most 20 characters."))])
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=True)
    roles = MultiCheckboxField(_l("Roles"), choices=role_choices)
    submit = SubmitField(_l("Save"))


class UserCreateForm(UserEditForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Please enter a username.")), Length(max=64, message=_l("At most 64 characters."))],
    )
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(_l("Please enter an initial password."))]
    )
