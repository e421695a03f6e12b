"""The base of every form: CSRF (Flask-WTF) plus one check on all free text."""
import re
import unicodedata

from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField, FieldList, FormField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .timeutil import local_today

# An HTML tag or comment: "<" then a Latin letter, "/", "!" or "?". A name such as
# 张<三>& is not markup and stays allowed (it prints literally everywhere).
MARKUP_RE = re.compile(r"<\s*[/!?]?\s*[A-Za-z][^>]*>|<!--")


def text_problem(value: str) -> str | None:
    """Why a piece of typed text is refused, or None."""
    if MARKUP_RE.search(value):
        return str(_l("Remove the markup (text in angle brackets such as <b>): only plain text is kept."))
    if any(unicodedata.category(ch) == "Cc" and ch not in "\r\n\t" for ch in value):
        return str(_l("Remove the control characters from this text."))
    return None


def _text_fields(fields):
    for field in fields:
        if isinstance(field, FormField):
            yield from _text_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from _text_fields([entry])
        elif isinstance(field, StringField) and not isinstance(field, PasswordField):
            yield field


API_FORMDATA = "api_formdata"  # flask.g key: the JSON body of an API request, as form data


class AppForm(FlaskForm):
    """Refuses HTML markup and control characters in every text field, with a message
    beside the field, so nothing of the kind is saved (and it would only ever be
    shown as text anyway).

    The JSON API validates its requests with the same forms: during an API request (bearer
    token, no session, so no CSRF token) a form reads the request's JSON body, flattened into
    form data (``g.api_formdata``), and checks no CSRF token."""

    class Meta(FlaskForm.Meta):
        @property
        def csrf(self):
            if has_request_context() and g.get(API_FORMDATA) is not None:
                return False
            return current_app.config.get("WTF_CSRF_ENABLED", True)

        def wrap_formdata(self, form, formdata):
            if has_request_context() and g.get(API_FORMDATA) is not None and not isinstance(formdata, MultiDict):
                return g.get(API_FORMDATA) if formdata is not None else None
            return super().wrap_formdata(form, formdata)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in _text_fields(self):
            problem = text_problem(field.data or "") if isinstance(field.data, str) else None
            if problem:
                field.errors = [*field.errors, problem]
                ok = False
        return ok


class MultiSelect(SelectMultipleField):
    """SelectMultipleField whose "not a valid choice" message is in the user's language
    (WTForms' own Chinese catalogue lacks it)."""

    def pre_validate(self, form):
        if self.data and self.validate_choice:
            values = {c[0] for c in self.iter_choices()}
            if any(d not in values for d in self.data):
                raise ValidationError(_l("One of the choices is no longer available; reload the page."))


class Checkboxes(MultiSelect):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def flash_errors(form, fallback: str | None = None) -> None:
    """A form posted from another page: show its errors as flashes there."""
    from flask import flash

    messages = [m for errors in form.errors.values() for m in errors if isinstance(m, str)]
    for message in messages or ([fallback] if fallback else []):
        flash(message, "danger")


class PastDateField(DateField):
    """A date that cannot lie ahead: the browser's picker stops at today in the configured
    zone (the validators say the same on the server)."""

    def __call__(self, **kwargs):
        kwargs.setdefault("max", local_today().isoformat())
        return super().__call__(**kwargs)


class ComingDateField(DateField):
    """A date from today on (a planned visit, a due date): the picker starts at today."""

    def __call__(self, **kwargs):
        kwargs.setdefault("min", local_today().isoformat())
        return super().__call__(**kwargs)

