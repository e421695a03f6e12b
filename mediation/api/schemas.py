"""The API's schemas: they validate requests, shape responses and are the OpenAPI document
(flask-smorest/apispec generate it from them). Field-level rules of the domain (ID numbers,
phones, dates not in the future, the parties an intake needs) stay in the pages' forms,
which the views run on the same request (see ``common.run_form``).

Messages are in the request's language: ``Msg`` is an English message id that marshmallow
formats, and formatting translates it (placeholders are gettext's ``%(name)s``)."""
import marshmallow
from flask_babel import gettext
from marshmallow import EXCLUDE, RAISE, fields, validate

from ..agreements.models import AgreementKind, Confirmation
from ..cases.models import CaseStatus, Outcome, PartyRole, RiskLevel, Sex, Source
from ..diary.models import EntryKind, Performance, Satisfaction, SessionMode
from ..leads.models import LeadStatus, Urgency
from ..org.models import Tier
from ..screening.models import Occasion
from ..screening.scoring import ANSWER_VALUE, ITEMS
from ..transfers.models import (
    DelegationStatus,
    EscalationReason,
    ReferralDestination,
    TransferKind,
    TransferStatus,
)


class Schema(marshmallow.Schema):
    """The API's schemas: made once and never changed, so a deep copy may share one.
    flask-smorest deep-copies each decorator's documentation, schemas included, at every
    layer; copied, the schemas held by the docs came to 6 MB of every worker's memory."""

    def __deepcopy__(self, memo):
        return self


class Msg(str):
    """A message id, translated when marshmallow formats it."""

    def format(self, *args, **kwargs):
        return gettext(str(self), **{k: v for k, v in kwargs.items() if v is not None})


def _l(text: str) -> Msg:  # extracted by Babel like the other _l messages
    return Msg(text)


# webargs' own message for a body that is not JSON: listed here so that it is translated
# (common._flatten translates each message it is given).
WEBARGS_MESSAGES = (_l("Invalid JSON body."),)

_FIELD = {"required": _l("This field is required."), "null": _l("This field may not be null."),
          "validator_failed": _l("Invalid value.")}


class String(fields.String):
    default_error_messages = {**_FIELD, "invalid": _l("Not a valid text."), "invalid_utf8": _l("Not valid text.")}


class Integer(fields.Integer):
    default_error_messages = {**_FIELD, "invalid": _l("Not a valid integer."), "too_large": _l("Number too large.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)


class Decimal(fields.Decimal):
    default_error_messages = {**_FIELD, "invalid": _l("Not a valid number."), "too_large": _l("Number too large."),
                              "special": _l("Not a valid number.")}


class Boolean(fields.Boolean):
    default_error_messages = {**_FIELD, "invalid": _l("Not a valid boolean (true or false).")}


class Date(fields.Date):
    default_error_messages = {**_FIELD, "invalid": _l("Not a valid date (YYYY-MM-DD)."),
                              "format": _l("Not a valid date (YYYY-MM-DD).")}


class Time(fields.Time):
    default_error_messages = {**_FIELD, "invalid": _l("Not a valid time (HH:MM).")}


class DateTime(fields.DateTime):
    default_error_messages = {**_FIELD, "invalid": _l("Not a valid date and time."),
                              "format": _l("Not a valid date and time.")}


class List(fields.List):
    default_error_messages = {**_FIELD, "invalid": _l("Not a valid list.")}


class Nested(fields.Nested):
    default_error_messages = {**_FIELD, "type": _l("Not a valid object.")}


class Dict(fields.Dict):
    default_error_messages = {**_FIELD, "invalid": _l("Not a valid object.")}


class Enum(fields.Enum):
    """An enum by its value (``"in_mediation"``), as stored and as the pages post it."""

    default_error_messages = {**_FIELD, "unknown": _l("Must be one of: %(choices)s.")}

    def __init__(self, enum, **kwargs):
        super().__init__(enum, by_value=True, **kwargs)


def length(n: int, lo: int = 0):
    if lo:
        return validate.Length(min=lo, max=n, error=_l("Between %(min)d and %(max)d characters."))
    return validate.Length(max=n, error=_l("At most %(max)d characters."))


def between(lo, hi):
    return validate.Range(min=lo, max=hi, error=_l("Enter a number from %(min)s to %(max)s."))


class Base(Schema):
    """Requests refuse unknown fields (a misspelt field is not silently dropped)."""

    error_messages = {"unknown": _l("Unknown field."), "type": _l("Invalid input type.")}

    class Meta:
        unknown = RAISE
        ordered = True


class Query(Base):
    class Meta:
        unknown = EXCLUDE  # other query arguments are ignored, as the pages ignore them


# --- shared shapes --------------------------------------------------------------------------

class Problem(Schema):
    """RFC 9457 problem details; ``errors`` maps a field to its messages."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    transition = fields.String()


class UnitRef(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    tier = fields.Enum(Tier, by_value=True, required=True)


class UnitPath(UnitRef):
    """A unit with its tier path: the units from the station down to it."""

    label = fields.String(required=True)
    path = fields.List(fields.Nested(UnitRef), required=True)


class UnitOut(UnitPath):
    parent = fields.String(allow_none=True, required=True, metadata={"description": "the parent unit's code"})
    active = fields.Boolean(required=True)


class UnitDetail(UnitOut):
    children = fields.List(fields.Nested(UnitRef), required=True)


class UnitList(Schema):
    items = fields.List(fields.Nested(UnitOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "pass as ``cursor`` for the units that follow; null after the last"})


class UserRef(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)


class Me(UserRef):
    unit = fields.Nested(UnitPath, required=True)
    roles = fields.List(fields.String(), required=True)
    token = fields.String(required=True, metadata={"description": "the name of the token used"})
    locale = fields.String(required=True)


class CategoryOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    active = fields.Boolean(required=True)


class CategoryList(Schema):
    items = fields.List(fields.Nested(CategoryOut), required=True)


# --- cases ---------------------------------------------------------------------------------

class PartyIn(Base):
    role = Enum(PartyRole, required=True)
    name = String(required=True, validate=length(50))
    sex = Enum(Sex, allow_none=True)
    ethnicity = String(validate=length(16))
    birth_date = Date(allow_none=True)
    occupation = String(validate=length(50))
    id_number = String(validate=length(30), metadata={
        "description": "18 characters, checked with the GB 11643 check digit. On update, a number sent back "
                       "masked as the API shows it (3204**********1227) keeps the stored one."})
    phone = String(validate=length(20))
    address = String(validate=length(200))
    relationship = String(validate=length(50))
    is_minor = Boolean()


class PartyOut(Schema):
    id = fields.Integer(required=True)
    role = fields.Enum(PartyRole, by_value=True, required=True)
    name = fields.String(required=True)
    sex = fields.Enum(Sex, by_value=True, allow_none=True)
    ethnicity = fields.String()
    birth_date = fields.Date(allow_none=True)
    occupation = fields.String()
    id_number = fields.String(required=True, metadata={"description": "masked; the full number only through "
                                                                       "the reveal endpoint, which is audited"})
    phone = fields.String(allow_none=True, metadata={"description": "null when protected"})
    address = fields.String(allow_none=True, metadata={"description": "null when protected"})
    contacts_protected = fields.Boolean(required=True)
    relationship = fields.String()
    is_minor = fields.Boolean()


class CaseFields(Base):
    category = String(required=True, metadata={"description": "a category code (GET /api/v1/categories)"})
    source = Enum(Source, required=True)
    referrer = String(validate=length(100))
    intake_date = Date(required=True)
    summary = String(required=True, validate=length(5000, 1))
    claims = String(validate=length(5000))
    # The range (0 to 10¹¹ yuan, two decimals) is the intake form's: checked there.
    amount_in_dispute = Decimal(allow_none=True, metadata={"minimum": 0, "maximum": 10 ** 11})
    people_involved = Integer(validate=between(1, 100000))
    children_involved = Integer(validate=between(0, 100))
    is_major = Boolean()
    is_mass = Boolean()
    risk_level = Enum(RiskLevel)
    dv_flag = Boolean()
    consent_to_mediate = Boolean()
    rights_notice_date = Date(allow_none=True)
    parties = List(Nested(PartyIn), required=True, validate=validate.Length(
        min=2, max=30, error=_l("Between %(min)d and %(max)d parties.")))


class CaseCreate(CaseFields):
    unit = String(metadata={"description": "the holding unit's code; default: the lead's unit when the case is "
                                           "registered from a lead the token user may hold there, else the "
                                           "token user's unit"})
    lead = Integer(metadata={"description": "the lead this case is registered from (it is marked registered)"})


class CaseUpdate(CaseFields):
    """The fields to change; those left out keep their values. ``parties``, when given, is the
    whole list, in order (a party with safety screenings cannot be removed)."""

    class Meta:
        unknown = RAISE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class CaseLinks(Schema):
    self = fields.String(required=True)
    diary = fields.String(required=True)
    agreement = fields.String(required=True)
    screenings = fields.String(required=True)
    transfers = fields.String(required=True)
    transitions = fields.String(required=True)
    export = fields.String(required=True)
    pdfs = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class CaseSummary(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.Enum(CaseStatus, by_value=True, required=True)
    status_label = fields.String(required=True)
    unit = fields.Nested(UnitPath, required=True)
    restricted = fields.Boolean(required=True)
    content_hidden = fields.Boolean(required=True, metadata={
        "description": "a restricted case not yet opened through this token: only its number and unit show"})
    category = fields.String(allow_none=True)
    source = fields.Enum(Source, by_value=True, allow_none=True)
    intake_date = fields.Date(allow_none=True)
    risk_level = fields.Enum(RiskLevel, by_value=True, allow_none=True)
    outcome = fields.Enum(Outcome, by_value=True, allow_none=True)
    due_date = fields.Date(allow_none=True)
    overdue = fields.Boolean(allow_none=True)
    parties = fields.List(fields.String(), metadata={"description": "applicant and respondent, names masked"})
    version = fields.Integer(required=True)


class CaseList(Schema):
    items = fields.List(fields.Nested(CaseSummary), required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "per status, over the filters but the status (first page only)"})
    next_cursor = fields.String(allow_none=True, required=True)


class CaseOut(CaseSummary):
    origin_unit = fields.Nested(UnitPath, allow_none=True)
    referrer = fields.String()
    summary = fields.String()
    claims = fields.String()
    amount_in_dispute = fields.Decimal(as_string=True, allow_none=True)
    people_involved = fields.Integer()
    children_involved = fields.Integer()
    is_major = fields.Boolean()
    is_mass = fields.Boolean()
    dv_flag = fields.Boolean()
    consent_to_mediate = fields.Boolean()
    rights_notice_date = fields.Date(allow_none=True)
    decline_reason = fields.String()
    lead_mediator = fields.Nested(UserRef, allow_none=True)
    co_mediators = fields.List(fields.Nested(UserRef))
    parties = fields.List(fields.Nested(PartyOut))
    accepted_at = fields.DateTime(allow_none=True)
    concluded_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    archived_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    updated_by = fields.Nested(UserRef, allow_none=True)
    imported_from = fields.Dict(allow_none=True)
    links = fields.Nested(CaseLinks)


class UnitListQuery(Query):
    cursor = String(validate=length(255))


class CaseListQuery(Query):
    view = String(validate=validate.OneOf(["subtree", "mine", "unit"], error=_l("Must be one of: %(choices)s.")))
    unit = String(validate=length(32))
    category = String(validate=length(32))
    risk = Enum(RiskLevel)
    status = Enum(CaseStatus)
    from_ = Date(data_key="from")
    to = Date()
    overdue = Boolean()
    open = Boolean()
    incoming = Boolean()
    q = String(validate=length(50))
    sort = String(validate=validate.OneOf(["newest", "oldest", "number"], error=_l("Must be one of: %(choices)s.")))
    limit = Integer(strict=False, validate=between(1, 100))
    cursor = String(validate=length(200))


class IfMatchHeader(Schema):
    class Meta:
        unknown = EXCLUDE

    if_match = fields.String(data_key="If-Match", metadata={"description": "the case's version, as its ETag"})


class Reason(Base):
    reason = String(required=True, validate=length(200, 1))


class Revealed(Schema):
    party = fields.Integer(required=True)
    id_number = fields.String(required=True)


# --- transitions ----------------------------------------------------------------------------

class TransitionIn(Base):
    """Every field any step asks for; each step reads those it needs (GET .../transitions says which)."""

    note = String(validate=length(2000))
    reason = String(validate=length(2000))
    lead_mediator = Integer(allow_none=True, metadata={"description": "a user id"})
    co_mediators = List(Integer())
    outcome = Enum(Outcome)
    told_other_routes = Boolean()
    to_unit = String(validate=length(32), metadata={"description": "a unit code"})
    reason_code = Enum(EscalationReason)
    reason_text = String(validate=length(2000))
    urgency = Enum(Urgency)
    destination = Enum(ReferralDestination)
    destination_name = String(validate=length(100))
    referred_on = Date()
    reference = String(validate=length(64))
    end_case = Boolean()
    referral = Integer(metadata={"description": "a referral id (open referrals: GET .../transfers)"})
    outcome_text = String(validate=length(2000))
    outcome_on = Date()
    risk_level = Enum(RiskLevel)
    named_users = List(Integer())
    instruction = String(validate=length(2000))
    due_date = Date()
    version = Integer(strict=False, metadata={"description": "the case version the step was decided on "
                                                            "(or send If-Match); a stale one answers 412"})


class TransitionOut(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True)
    needs = fields.List(fields.String(), required=True)
    blocked = fields.String(allow_none=True, required=True,
                            metadata={"description": "why it cannot be taken now, or null"})
    confirm = fields.String(allow_none=True)


class TransitionList(Schema):
    items = fields.List(fields.Nested(TransitionOut), required=True)
    version = fields.Integer(required=True)


class EventOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(allow_none=True)
    from_status = fields.Enum(CaseStatus, by_value=True, allow_none=True)
    to_status = fields.Enum(CaseStatus, by_value=True, allow_none=True)


class TransitionResult(Schema):
    case = fields.Nested(CaseOut, required=True)
    event = fields.Nested(EventOut, required=True)


# --- leads ----------------------------------------------------------------------------------

class LeadIn(Base):
    who = String(required=True, validate=length(200, 1))
    where = String(required=True, validate=length(200, 1))
    what = String(required=True, validate=length(2000, 1))
    urgency = Enum(Urgency)
    contact_phone = String(validate=length(20))


class LeadOut(Schema):
    id = fields.Integer(required=True)
    unit = fields.Nested(UnitPath, required=True)
    status = fields.Enum(LeadStatus, by_value=True, required=True)
    urgency = fields.Enum(Urgency, by_value=True, required=True)
    sealed = fields.Boolean(required=True, metadata={"description": "became a restricted case: nothing more shows"})
    who = fields.String(allow_none=True)
    where = fields.String(allow_none=True, metadata={"description": "null when protected"})
    what = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True, metadata={"description": "null when protected"})
    reporter = fields.Nested(UserRef, allow_none=True)
    case_id = fields.Integer(allow_none=True)
    dismiss_reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class LeadList(Schema):
    items = fields.List(fields.Nested(LeadOut), required=True)


class LeadQuery(Query):
    status = Enum(LeadStatus)


# --- diary ----------------------------------------------------------------------------------

class EntryIn(Base):
    kind = Enum(EntryKind, required=True)
    occurred_on = Date(required=True)
    start_time = Time(allow_none=True)
    duration_minutes = Integer(allow_none=True, validate=between(1, 1440))
    place = String(validate=length(200))
    mode = Enum(SessionMode, allow_none=True)
    party_ids = List(Integer())
    mediator_ids = List(Integer())
    others_present = String(validate=length(500))
    issues = String(validate=length(10000))
    positions = Dict(keys=String(validate=validate.Regexp(r"^[0-9]{1,9}$", error=_l("A party id."))),
                     values=String(validate=length(5000)), metadata={"description": "party id -> position"})
    proposals = String(validate=length(10000))
    result = String(validate=length(10000))
    next_step = String(validate=length(2000))
    next_date = Date(allow_none=True)
    confidential = Boolean()
    performance = Enum(Performance, allow_none=True)
    satisfaction = Enum(Satisfaction, allow_none=True)
    remaining_risk = String(validate=length(2000))


class AmendmentIn(Base):
    text = String(required=True, validate=length(10000, 1))
    reason = String(required=True, validate=length(500, 1))


class AmendmentOut(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    by = fields.String(required=True)
    reason = fields.String(required=True)
    text = fields.String(required=True)


class EntryOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.Enum(EntryKind, by_value=True, required=True)
    occurred_on = fields.Date(required=True)
    start_time = fields.Time(allow_none=True)
    duration_minutes = fields.Integer(allow_none=True)
    place = fields.String()
    mode = fields.Enum(SessionMode, by_value=True, allow_none=True)
    party_ids = fields.List(fields.Integer())
    mediator_ids = fields.List(fields.Integer())
    others_present = fields.String()
    issues = fields.String()
    positions = fields.Dict(keys=fields.String(), values=fields.String())
    proposals = fields.String()
    result = fields.String()
    next_step = fields.String()
    next_date = fields.Date(allow_none=True)
    confidential = fields.Boolean()
    performance = fields.Enum(Performance, by_value=True, allow_none=True)
    satisfaction = fields.Enum(Satisfaction, by_value=True, allow_none=True)
    remaining_risk = fields.String()
    author = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    amendments = fields.List(fields.Nested(AmendmentOut))
    record_pdf = fields.String(required=True)


class EntryList(Schema):
    items = fields.List(fields.Nested(EntryOut), required=True)


# --- agreement ------------------------------------------------------------------------------

class TermIn(Base):
    content = String(required=True, validate=length(5000, 1))
    method = String(validate=length(500))
    deadline = String(validate=length(200))


class AgreementIn(Base):
    kind = Enum(AgreementKind, required=True)
    reached_on = Date(required=True)
    facts = String(validate=length(10000))
    disputed_points = String(validate=length(10000))
    copies = Integer(allow_none=True, validate=between(1, 20))
    terms = List(Nested(TermIn), required=True, validate=validate.Length(
        min=1, max=50, error=_l("Between %(min)d and %(max)d terms.")))


class TermOut(Schema):
    content = fields.String(required=True)
    method = fields.String(required=True)
    deadline = fields.String(required=True)


class AgreementOut(Schema):
    kind = fields.Enum(AgreementKind, by_value=True, required=True)
    reached_on = fields.Date(required=True)
    facts = fields.String(required=True)
    disputed_points = fields.String(required=True)
    copies = fields.Integer(required=True)
    terms = fields.List(fields.Nested(TermOut), required=True)
    confirmation = fields.Enum(Confirmation, by_value=True, required=True)
    confirmation_applied_on = fields.Date(allow_none=True)
    confirmation_decided_on = fields.Date(allow_none=True)
    confirmation_court = fields.String()
    version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)
    pdf = fields.String(required=True)


# --- screening ------------------------------------------------------------------------------

_ANSWER = validate.OneOf(sorted(ANSWER_VALUE), error=_l("Must be one of: %(choices)s."))


class ScreeningIn(Base):
    party = Integer(required=True, metadata={"description": "the party's id"})
    occasion = Enum(Occasion, required=True)
    answers = Dict(keys=String(validate=validate.OneOf([str(i.number) for i in ITEMS],
                                                       error=_l("Must be one of: %(choices)s."))),
                   values=String(validate=_ANSWER), required=True,
                   metadata={"description": "question number (1–16) -> yes, no or unsure"})
    unsafe_tonight = Boolean()
    breach = Boolean()
    child_harmed = Boolean()
    note = String(validate=length(2000))
    asked_alone = Boolean(required=True, metadata={"description": "must be true: each party is asked alone"})


class ScreeningOut(Schema):
    id = fields.Integer(required=True)
    party = fields.Integer(required=True)
    occasion = fields.Enum(Occasion, by_value=True, required=True)
    level = fields.Enum(RiskLevel, by_value=True, required=True)
    at = fields.DateTime(required=True)
    by = fields.String(required=True)
    answers_shown = fields.Boolean(required=True, metadata={
        "description": "the answers, score and note are only for the case's mediators"})
    answers = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    score = fields.Float(allow_none=True)
    unsafe_tonight = fields.Boolean(allow_none=True)
    breach = fields.Boolean(allow_none=True)
    child_harmed = fields.Boolean(allow_none=True)
    note = fields.String(allow_none=True)


class ScreeningList(Schema):
    items = fields.List(fields.Nested(ScreeningOut), required=True)
    risk_level = fields.Enum(RiskLevel, by_value=True, required=True)


# --- transfers, referrals, delegations -------------------------------------------------------------

class TransferOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.Enum(TransferKind, by_value=True, required=True)
    status = fields.Enum(TransferStatus, by_value=True, required=True)
    from_unit = fields.Nested(UnitRef, required=True)
    to_unit = fields.Nested(UnitRef, required=True)
    reason = fields.Enum(EscalationReason, by_value=True, required=True)
    reason_text = fields.String()
    urgency = fields.Enum(Urgency, by_value=True, required=True)
    note = fields.String()
    created_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String()


class ReferralOut(Schema):
    id = fields.Integer(required=True)
    destination = fields.Enum(ReferralDestination, by_value=True, required=True)
    destination_name = fields.String()
    referred_on = fields.Date(required=True)
    reference = fields.String()
    note = fields.String()
    outcome = fields.String()
    outcome_on = fields.Date(allow_none=True)
    open = fields.Boolean(required=True)


class DelegationOut(Schema):
    id = fields.Integer(required=True)
    unit = fields.Nested(UnitRef, required=True)
    instruction = fields.String(required=True)
    due_date = fields.Date(required=True)
    status = fields.Enum(DelegationStatus, by_value=True, required=True)


class Moves(Schema):
    transfers = fields.List(fields.Nested(TransferOut), required=True)
    referrals = fields.List(fields.Nested(ReferralOut), required=True)
    delegations = fields.List(fields.Nested(DelegationOut), required=True)


# --- statistics ------------------------------------------------------------------------------------

class StatsQuery(Query):
    unit = String(validate=length(32))
    period = String(validate=validate.OneOf(["month", "quarter", "year", "custom"],
                                            error=_l("Must be one of: %(choices)s.")))
    month = String(validate=validate.Regexp(r"^[0-9]{4}-[0-9]{2}$", error=_l("A month as YYYY-MM.")))
    quarter = String(validate=validate.Regexp(r"^[0-9]{4}-?Q[1-4]$", error=_l("A quarter as YYYY-Q1 to YYYY-Q4.")))
    year = Integer(strict=False, validate=between(2000, 2100))
    start = Date()
    end = Date()
    suppress = Boolean(metadata={"description": "counts of 1 and 2 shown as \"<3\" (default true)"})


Figure = fields.Raw(metadata={"description": "an integer, or \"<3\" when suppressed; rates a number or null",
                              "type": ["number", "string", "null"]})


class StatsRow(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    figures = fields.Dict(keys=fields.String(), values=Figure, required=True)


class StatsOut(Schema):
    unit = fields.Nested(UnitPath, required=True)
    period = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    suppressed = fields.Boolean(required=True)
    notes = fields.List(fields.String(), required=True)
    summary = fields.Dict(keys=fields.String(), values=Figure, required=True)
    units = fields.List(fields.Nested(StatsRow), required=True)
    months = fields.List(fields.Nested(StatsRow), required=True)
    categories = fields.List(fields.Nested(StatsRow), required=True)


# --- the exchange format ------------------------------------------------------------------------------

class AttachmentOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String()
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    entry_id = fields.Integer(allow_none=True)
    uploaded_at = fields.DateTime(required=True)


class FollowUpOut(Schema):
    days = fields.Integer(required=True)
    due = fields.Date(required=True)
    done = fields.Date(allow_none=True)
    overdue = fields.Boolean(required=True)


class ExchangeOut(Schema):
    """The exchange format ``mediation-case/1``."""

    format = fields.String(required=True, metadata={"description": "mediation-case/1"})
    exported_at = fields.String(required=True)
    source_system = fields.String(required=True)
    case = fields.Nested(CaseOut, required=True)
    diary = fields.List(fields.Nested(EntryOut), required=True)
    agreement = fields.Nested(AgreementOut, allow_none=True, required=True)
    follow_ups = fields.List(fields.Nested(FollowUpOut), required=True)
    transfers = fields.List(fields.Nested(TransferOut), required=True)
    referrals = fields.List(fields.Nested(ReferralOut), required=True)
    delegations = fields.List(fields.Nested(DelegationOut), required=True)
    attachments = fields.List(fields.Nested(AttachmentOut), required=True)


class PartyImport(PartyIn):
    """A party of an exchange document: what the export adds (id, protection) is ignored; a
    masked ID number, or a withheld (null) phone or address, is left out."""

    class Meta:
        unknown = EXCLUDE

    phone = String(validate=length(20), allow_none=True)
    address = String(validate=length(200), allow_none=True)
    id_number = String(validate=length(30), allow_none=True)
    ethnicity = String(validate=length(16), allow_none=True)
    occupation = String(validate=length(50), allow_none=True)
    relationship = String(validate=length(50), allow_none=True)


class CaseImportRecord(CaseFields):
    """The ``case`` of an exchange document: the record's fields; the rest (id, number, status,
    unit, dates of the steps) belongs to the sender and is ignored (its number is kept as the
    external reference)."""

    class Meta:
        unknown = EXCLUDE

    number = String(validate=length(64))
    referrer = String(validate=length(100), allow_none=True)
    claims = String(validate=length(5000), allow_none=True)
    parties = List(Nested(PartyImport), required=True, validate=validate.Length(
        min=2, max=30, error=_l("Between %(min)d and %(max)d parties.")))


class ExchangeIn(Base):
    """An exchange document to import (the export's form), with where it comes from."""

    class Meta:
        unknown = EXCLUDE

    format = String(required=True, validate=validate.Equal("mediation-case/1", error=_l("Must be %(other)s.")))
    source_system = String(required=True, validate=length(100, 1),
                           metadata={"description": "who hands the case over, e.g. 苏解纷 or 金坛区人民法院"})
    external_reference = String(validate=length(100), metadata={"description": "their case number"})
    unit = String(validate=length(32), metadata={"description": "the unit that takes it; default the token user's"})
    case = Nested(CaseImportRecord, required=True)
    diary = List(Dict(), load_default=list)
    agreement = Dict(allow_none=True)
    follow_ups = List(Dict(), load_default=list)
    transfers = List(Dict(), load_default=list)
    referrals = List(Dict(), load_default=list)
    delegations = List(Dict(), load_default=list)
    attachments = List(Dict(), load_default=list)
    exported_at = String(validate=length(40))
