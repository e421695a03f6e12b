"""The base of every form: CSRF (Flask-WTF) plus one check on all free text, the error
summary's items, and the dates that cannot lie ahead."""
import re
import unicodedata

from flask import Request, current_app, g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from wtforms import DateField, FieldList, Form, FormField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .timeutil import local_today

# An HTML tag or comment: "<" then a Latin letter, "/", "!" or "?". A name such as
# 张<三>& is not markup and stays allowed (it prints literally everywhere).
MARKUP_RE = re.compile(r"<\s*[/!?]?\s*[A-Za-z][^>]*>|<!--")

# Text that may go onto an official document (every text field: a case's summary reaches the
# agreement's facts, a lead's words the summary) takes letters of any script (CJK of every
# extension plane too: 䶮, 𬌗), marks, digits, punctuation (the middle dot of minority names,
# 阿依古丽·买买提), spaces, mathematical and currency signs, and these typographic symbols of
# Chinese documents, all of which the embedded font prints (tests/test_symbols.py checks it).
PRINTABLE_SYMBOLS = frozenset("°℃℉㎡㎝㎜㎏㎞№※〒〓○◎●□■△▲▽▼◇◆☆★")
# Emoji and other pictographs are "other symbols" (So; 😢 👵 ☎ ♀ ©), or come as invisible
# helpers: variation selectors (FE0F asks for the emoji form), the keycap mark, skin tones
# (Sk), joiners and other format characters (Cf), private-use and unassigned code points.
_VARIATION_SELECTORS = range(0xFE00, 0xFE10)
_VARIATION_SELECTORS_SUPPLEMENT = range(0xE0100, 0xE01F0)
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_CJK_PLANES = range(0x20000, 0x40000)  # ideographs, some newer than this Python's Unicode tables


def _unprintable(ch: str) -> bool:
    """A pictograph or symbol (or its invisible helper) that has no place on a printed form."""
    cp = ord(ch)
    if cp in _CJK_PLANES or ch in PRINTABLE_SYMBOLS:
        return False
    category = unicodedata.category(ch)
    return (category in ("So", "Co", "Cn", "Cs", "Cf") or cp in _SKIN_TONES or cp == 0x20E3
            or cp in _VARIATION_SELECTORS or cp in _VARIATION_SELECTORS_SUPPLEMENT)


def _named(ch: str) -> str:
    """“😢”（U+1F622）, or just U+200D for a character that shows nothing."""
    code = f"U+{ord(ch):04X}"
    if unicodedata.category(ch) in ("Cf", "Mn", "Me", "Co", "Cn", "Cs", "Sk"):
        return code
    return f"“{ch}”（{code}）"


def symbol_problem(value: str) -> str | None:
    """Why text is refused for an official document (emoji, pictographs, symbols), naming
    the characters, or None. The one rule for every field that prints."""
    found: list[str] = []
    for ch in value:
        if _unprintable(ch) and ch not in found:
            found.append(ch)
    if not found:
        return None
    shown = "、".join(_named(ch) for ch in found[:5]) + ("…" if len(found) > 5 else "")
    if all(unicodedata.category(ch) == "Cf" for ch in found):  # a zero-width space is no emoji (QA)
        return str(_l("Remove the invisible characters %(chars)s (often pasted along with text): they do not "
                      "print.", chars=shown))
    return str(_l("Remove %(chars)s: printed documents take letters, digits and punctuation, not emoji or "
                  "symbols.", chars=shown))


def text_problem(value: str) -> str | None:
    """Why a piece of typed text is refused (every reason at once: "<b>很生气</b>😡" was told of
    the brackets, then, once they were gone, of the emoji), or None."""
    problems = []
    if MARKUP_RE.search(value):
        problems.append(str(_l("Remove the markup (text in angle brackets such as <b>): only plain text is kept.")))
    if any(unicodedata.category(ch) == "Cc" and ch not in "\r\n\t" for ch in value):
        problems.append(str(_l("Remove the control characters from this text.")))
    if symbols := symbol_problem(value):
        problems.append(symbols)
    return " ".join(problems) or None


def _text_fields(fields):
    for field in fields:
        if isinstance(field, FormField):
            yield from _text_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from _text_fields([entry])
        elif isinstance(field, StringField) and not isinstance(field, PasswordField):
            yield field


class AppRequest(Request):
    """A request whose form text has each line break as one character: browsers send a
    textarea's line breaks as "\r\n", which would count twice against a length limit that
    the page counts once (and print as two breaks)."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form and any("\r" in v for _k, v in form.items(multi=True)):
            self.__dict__["form"] = ImmutableMultiDict(
                [(k, v.replace("\r\n", "\n").replace("\r", "\n")) for k, v in form.items(multi=True)])


class NoCutMeta:
    """Renders a field's length limit as ``data-maxlength``, never ``maxlength``: a browser
    cuts pasted text at maxlength without a word (and counts a character beyond U+FFFF, as
    𠀀, twice). The page shows the limit when it is passed (app.js) and the server refuses
    the text with a message, keeping it."""

    def render_field(self, field, render_kw):
        kw = dict(getattr(field, "render_kw", None) or {}, **render_kw)
        limit = kw.get("maxlength") or getattr(field.flags, "maxlength", None)
        if limit:
            kw["maxlength"] = False  # False leaves the attribute out (and keeps the flag's out)
            kw["data-maxlength"] = limit
        return field.widget(field, **kw)


class SubForm(Form):
    """A card repeated inside a form (a party, an agreement's term). A plain Form: the CSRF
    token belongs to the outer form."""

    class Meta(NoCutMeta):
        def get_translations(self, form):
            return wtforms_translations  # WTForms' own messages in the user's language, as in FlaskForm


API_FORMDATA = "api_formdata"  # flask.g key: the JSON body of an API request, as form data


class AppForm(FlaskForm):
    """Refuses HTML markup and control characters in every text field, with a message
    beside the field, so nothing of the kind is saved (and it would only ever be
    shown as text anyway).

    The JSON API validates its requests with the same forms: during an API request (bearer
    token, no session, so no CSRF token) a form reads the request's JSON body, flattened into
    form data (``g.api_formdata``), and checks no CSRF token."""

    class Meta(NoCutMeta, FlaskForm.Meta):
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

    # Each message with its field's name: the form was on another page, its fields are not beside it.
    messages = [str(_l("%(label)s: %(message)s", label=label, message=m)) if label else m
                for _id, label, m in error_items(form)]
    for message in messages or ([fallback] if fallback else []):
        flash(message, "danger")


class PastDateField(DateField):
    """A date that cannot lie ahead: the browser's picker stops at today in the configured
    zone, and the server refuses a later one with the others of the form."""

    def __call__(self, **kwargs):
        kwargs.setdefault("max", local_today().isoformat())
        return super().__call__(**kwargs)

    def post_validate(self, form, validation_stopped):
        if not validation_stopped and self.data is not None and not self.errors and self.data > local_today():
            self.errors.append(str(_l("The date is in the future.")))


def _message(m) -> bool:
    """An error message (a str or a lazy one), not a sub-form's dict of errors."""
    return not isinstance(m, dict | list | tuple)


def error_items(form, extra=()) -> list[tuple[str, str, str]]:
    """Every error of a form (its sub-forms and lists too), for the summary at its top:
    (id of the field, its label, the message). ``extra``: more such triples (fields the view
    adds, such as each party's position in a diary entry). Errors not tied to a field
    (``form_errors``) link to the form itself."""
    items: list[tuple[str, str, str]] = [("", "", str(m)) for m in getattr(form, "form_errors", []) or []]

    def walk(fields, prefix: str):
        for field in fields:
            if isinstance(field, FormField):
                walk(field.form, prefix)
            elif isinstance(field, FieldList):
                for n, entry in enumerate(field.entries, 1):
                    if isinstance(entry, FormField):
                        walk(entry.form, f"{prefix}{field.label.text} {n} · ")
                    else:
                        walk([entry], prefix)
                # An error of the list as a whole (e.g. "enter the applicant's name").
                items.extend((field.id, f"{prefix}{field.label.text}", str(m))
                             for m in field.errors if _message(m))
            else:
                items.extend((field.id, f"{prefix}{field.label.text}", str(m)) for m in field.errors if _message(m))

    walk(form, "")
    return items + [(i, str(label), str(m)) for i, label, m in extra]


def add_domain_error(form, exc, default: str | None = None) -> None:
    """Put a service's refusal (``errors.DomainError``, one or several problems) beside the
    fields it names, or among the form's own errors."""
    for field, message in exc.errors:
        target = getattr(form, field or default or "", None)
        if target is not None and hasattr(target, "errors") and not isinstance(target, FormField):
            if isinstance(target.errors, tuple):
                target.errors = list(target.errors)
            if message not in target.errors:
                target.errors.append(message)
        else:
            form.form_errors.append(message)


def init_app(app) -> None:
    app.jinja_env.globals["form_error_items"] = error_items


class ComingDateField(DateField):
    """A date from today on (a planned visit, a due date): the picker starts at today."""

    def __call__(self, **kwargs):
        kwargs.setdefault("min", local_today().isoformat())
        return super().__call__(**kwargs)


def read_as_typed(_form, field) -> None:
    """Stop a number's checks when what was typed is not a number at all: "abc" is told it is
    not a number, not also that it is under 0 and over the top."""
    if field.process_errors:
        raise StopValidation()
