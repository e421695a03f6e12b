"""Forms for logging in and managing accounts."""
from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from ..errors import DomainError
from ..forms import AppForm, Checkboxes
from ..labels import ROLE_LABELS
from . import services
from .models import Role


class LoginForm(AppForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Please enter your username."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password."))])
    submit = SubmitField(_l("Log in"))


class PasswordChangeForm(AppForm):
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


def _domain_check(check, *args):
    """Run a service check inside a form validator, so every field's error shows at once."""
    try:
        return check(*args)
    except DomainError as exc:
        raise ValidationError(exc.message) from None


class UserEditForm(AppForm):
    stamp = HiddenField()  # the values the form was filled from (optimistic locking, stamps.py)
    display_name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Please enter a name.")), Length(max=64, message=_l("At most 64 characters."))],
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40, message=_l("At most 40 characters."))],
                        render_kw={"inputmode": "tel", "maxlength": 40})
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=True)
    roles = Checkboxes(_l("Roles"), choices=role_choices)
    submit = SubmitField(_l("Save"))

    def validate_phone(self, field):
        field.data = _domain_check(services.check_phone, field.data)

    def validate_roles(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one role."))


class UserCreateForm(UserEditForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Please enter a username.")), Length(max=64, message=_l("At most 64 characters."))],
    )
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(_l("Please enter an initial password."))]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The username comes first on the page: the error summary lists it first too.
        self._fields.move_to_end("username", last=False)

    def validate_username(self, field):
        field.data = _domain_check(services.check_username, field.data)

    def validate_password(self, field):
        _domain_check(services.check_password_policy, field.data, self.username.data or "")
