"""The intake and edit form (one page, parties as repeating cards) and transition forms."""
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..forms import AppForm, MultiSelect, PastDateField, SubForm, read_as_typed
from ..labels import OUTCOME_LABELS, PARTY_ROLE_LABELS, RISK_LABELS, SEX_LABELS, SOURCE_LABELS
from ..parsing import phone_number
from ..timeutil import age_on, local_today
from . import idnumber
from .models import PartyRole, RiskLevel, Sex, Source
from .workflow import Outcome

EARLIEST_INTAKE = date(2000, 1, 1)
# What a phone or ID box takes as typed or pasted (320482 19850302 3018, +86 138-0000-0101):
# the browser must not cut it before the server folds it (parsing.typed_number).
TYPED_NUMBER_MAX = 40

# The 56 officially recognised ethnic groups (GB 3304), 汉族 first.
ETHNIC_GROUPS = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 哈萨克族 傣族 "
    "黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 "
    "撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 "
    "塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()


def _choices(enum_cls, labels):
    return [(m.value, labels[m]) for m in enum_cls]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _compact(value):
    """ID numbers are often typed with spaces (3204 8219 4203 1812 27), hyphens or full-width digits."""
    return idnumber.normalise(value) if isinstance(value, str) else value


def number_problem(value: str) -> str | None:
    """A typed ID number with characters that are not 0–9 and X (after folding spaces,
    hyphens and full-width digits): the message names them (², ①, ٣ are not digits here)."""
    odd = [ch for ch in dict.fromkeys(value) if not ("0" <= ch <= "9" or ch == "X")]
    if not odd:
        return None
    shown = "、".join(f"“{ch}”（U+{ord(ch):04X}）" for ch in odd[:5])
    return str(_l("An ID number has the digits 0–9 and, last, X: remove %(chars)s.", chars=shown))


def _len(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


class PartyForm(SubForm):
    """One party card."""

    role = SelectField(_l("Role"), choices=_choices(PartyRole, PARTY_ROLE_LABELS))
    name = StringField(_l("Full name"), validators=[_len(50)], filters=[_strip])
    sex = SelectField(_l("Sex"), choices=[("", "—")] + _choices(Sex, SEX_LABELS), default="")
    ethnicity = SelectField(_l("Ethnicity"), choices=[("", "—")] + [(e, e) for e in ETHNIC_GROUPS], default="")
    birth_date = PastDateField(_l("Birth date"), validators=[Optional()])
    occupation = StringField(_l("Occupation"), validators=[_len(50)])
    # No maxlength of 18: a pasted "320482 19850302 3018" is longer until the server folds it.
    id_number = StringField(_l("ID number"), filters=[_compact], validators=[_len(TYPED_NUMBER_MAX)],
                            render_kw={"autocomplete": "off", "inputmode": "text", "autocapitalize": "characters",
                                       "spellcheck": "false", "maxlength": TYPED_NUMBER_MAX})
    phone = StringField(_l("Phone"), validators=[_len(TYPED_NUMBER_MAX)],
                        render_kw={"inputmode": "tel", "autocomplete": "off", "maxlength": TYPED_NUMBER_MAX})
    address = StringField(_l("Address"), validators=[_len(200)])
    relationship = StringField(_l("Relationship to the other party"), validators=[_len(50)],
                               render_kw={"placeholder": _l("e.g. the applicant's husband")})
    is_minor = BooleanField(_l("Minor"))

    def is_blank(self) -> bool:
        return not any((f.data or "") for f in (self.name, self.id_number, self.phone, self.address))

    def validate_birth_date(self, field):
        if field.data and field.data > local_today():
            raise ValidationError(_l("The birth date is in the future."))

    def validate_id_number(self, field):
        value = idnumber.normalise(field.data)
        field.data = value
        if not value:
            return
        problem = number_problem(value)
        if problem:
            raise ValidationError(problem)
        if not idnumber.is_valid(value):
            raise ValidationError(_l("This ID number is not valid: check the 18 characters (the last "
                                     "one is a check digit)."))
        if idnumber.birth_date_of(value) > local_today():
            raise ValidationError(_l("The birth date in the ID number is in the future: check the number."))
        if self.birth_date.data and idnumber.birth_date_of(value) != self.birth_date.data:
            raise ValidationError(_l("The birth date in the ID number differs from the birth date entered."))

    def validate_is_minor(self, field):
        born = self.birth_date.data
        if born is None and idnumber.is_valid(self.id_number.data or ""):
            born = idnumber.birth_date_of(idnumber.normalise(self.id_number.data))
        if field.data and born is not None:
            if age_on(born, local_today()) >= 18:
                raise ValidationError(_l("A person born on this date is not a minor."))

    def validate_phone(self, field):
        value = phone_number(field.data)
        if value is None:
            raise ValidationError(_l("Enter an 11-digit mobile number or a landline such as 0519-82812345."))
        field.data = value


class CaseForm(AppForm):
    unit = SelectField(_l("Holding unit"), coerce=int, validate_choice=True)
    category = SelectField(_l("Category"), coerce=int, validate_choice=True,
                           # "—" is 0: refused with the other fields' errors, not after them.
                           validators=[InputRequired(_l("Choose a category.")),
                                       NumberRange(min=1, message=_l("Choose a category."))])
    source = SelectField(_l("Source"), choices=_choices(Source, SOURCE_LABELS))
    referrer = StringField(_l("Referred by"), validators=[_len(100)],
                           render_kw={"placeholder": _l("e.g. the police station, the grid worker's name")})
    intake_date = PastDateField(_l("Intake date"), validators=[InputRequired(_l("Enter the intake date."))],
                                render_kw={"min": "2000-01-01"})
    summary = TextAreaField(_l("Summary of the dispute"),
                            validators=[DataRequired(_l("Describe the dispute.")), _len(5000)],
                            render_kw={"rows": 4})
    claims = TextAreaField(_l("Claims"), validators=[_len(5000)], render_kw={"rows": 3})
    amount_in_dispute = DecimalField(
        _l("Amount in dispute (yuan)"), places=2,
        validators=[Optional(), read_as_typed, NumberRange(min=0, message=_l("Enter an amount from 0 up.")),
                    NumberRange(max=10**11, message=_l("Enter an amount of at most 100 billion yuan."))],
        render_kw={"inputmode": "decimal"})
    people_involved = IntegerField(
        _l("People involved"), default=2,
        validators=[InputRequired(_l("Enter the number of people involved.")), read_as_typed,
                    NumberRange(min=1, message=_l("Enter a number from 1 up.")),
                    NumberRange(max=100000, message=_l("Enter a number of at most 100,000."))],
        render_kw={"inputmode": "numeric"})
    children_involved = IntegerField(
        _l("Children involved"), default=0,
        validators=[Optional(), NumberRange(min=0, max=100, message=_l("Enter a number from 0 to 100."))],
        render_kw={"inputmode": "numeric"})
    is_major = BooleanField(_l("Major dispute (重大)"))
    is_mass = BooleanField(_l("Mass dispute (群体性)"))
    risk_level = SelectField(_l("Risk level"), choices=_choices(RiskLevel, RISK_LABELS))
    dv_flag = BooleanField(_l("Domestic violence suspected"))
    consent_to_mediate = BooleanField(_l("Both sides agree to mediation"))
    rights_notice_date = PastDateField(_l("Notice of rights and duties given on"), validators=[Optional()])
    parties = FieldList(FormField(PartyForm), label=_l("Party"), min_entries=2, max_entries=30)
    draft_id = HiddenField()
    version = HiddenField()

    def validate_amount_in_dispute(self, field):
        raw = (field.raw_data or [""])[0].strip()
        if "." in raw and len(raw.split(".", 1)[1]) > 2:
            raise ValidationError(_l("Enter the amount in yuan with at most two decimals."))

    def validate_rights_notice_date(self, field):
        if field.data and field.data > local_today():
            raise ValidationError(_l("The date is in the future."))

    def validate_intake_date(self, field):
        if field.data and field.data > local_today():
            raise ValidationError(_l("The intake date is in the future."))
        if field.data and field.data < EARLIEST_INTAKE:
            # The year goes into the case number: year 1 would number a case （1）….
            raise ValidationError(_l("The intake date cannot be before 2000."))

    def validate_parties(self, field):
        filled = [p for p in field.entries if not p.form.is_blank()]
        for entry in filled:
            if not (entry.form.name.data or "").strip():
                entry.form.name.errors = list(entry.form.name.errors) + [str(_l("Enter the party's name."))]
        roles = {p.form.role.data for p in filled if (p.form.name.data or "").strip()}
        missing = []
        if PartyRole.APPLICANT.value not in roles:
            missing.append(str(_l("Enter the applicant's name.")))
        if PartyRole.RESPONDENT.value not in roles:
            missing.append(str(_l("Enter the respondent's name.")))
        if missing:
            raise ValidationError(" ".join(missing))
        if any(p.form.name.errors for p in filled):
            raise ValidationError(_l("Check the parties."))


class ReasonForm(AppForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Please give a reason.")), _len(2000)],
                           render_kw={"rows": 3})


class AssignForm(AppForm):
    lead_mediator = SelectField(_l("Lead mediator"), coerce=int, validate_choice=True,
                                validators=[InputRequired(_l("Choose the lead mediator."))])
    co_mediators = MultiSelect(_l("Co-mediators"), coerce=int, validate_choice=True)
    reason = TextAreaField(_l("Reason for the change"), validators=[_len(2000)], render_kw={"rows": 2})


class SafetyEndForm(ReasonForm):
    told_other_routes = BooleanField(
        _l("The parties were told they may turn to arbitration, administrative channels or the courts"))


class ConcludeForm(AppForm):
    outcome = SelectField(_l("Outcome"), choices=_choices(Outcome, OUTCOME_LABELS))
    told_other_routes = BooleanField(
        _l("The parties were told they may turn to arbitration, administrative channels or the courts"))
    note = TextAreaField(_l("Note"), validators=[_len(2000)], render_kw={"rows": 2})


class NoteForm(AppForm):
    note = TextAreaField(_l("Note"), validators=[_len(2000)], render_kw={"rows": 2})
