"""Display names for enum members, in the user's language (GLOSSARY.md)."""
from flask_babel import lazy_gettext as _l

from .agreements.models import AgreementKind, Confirmation
from .attachments.models import DocumentKind
from .cases.models import CaseStatus, Outcome, PartyRole, RiskLevel, Sex, Source
from .diary.models import EntryKind, Performance, Satisfaction, SessionMode
from .leads.models import LeadStatus, Urgency
from .org.models import Tier
from .paging import bounded, count_bound
from .transfers.models import (
    DelegationStatus,
    EscalationReason,
    ReferralDestination,
    TransferKind,
    TransferStatus,
)
from .users.models import Role

TIER_LABELS = {
    Tier.PROVINCE: _l("province"),
    Tier.CITY: _l("city"),
    Tier.STATION: _l("station"),
    Tier.PLATFORM: _l("platform"),
    Tier.VILLAGE: _l("village/community"),
}

ROLE_LABELS = {
    Role.MEDIATOR: _l("mediator"),
    Role.COORDINATOR: _l("coordinator"),
    Role.GRID_WORKER: _l("grid worker"),
    Role.ADMIN: _l("administrator"),
    Role.VIEWER: _l("statistics viewer"),
}

STATUS_LABELS = {
    CaseStatus.REGISTERED: _l("registered"),
    CaseStatus.ACCEPTED: _l("accepted"),
    CaseStatus.DECLINED: _l("declined"),
    CaseStatus.ASSIGNED: _l("assigned"),
    CaseStatus.IN_MEDIATION: _l("in mediation"),
    CaseStatus.PENDING: _l("pending acceptance"),
    CaseStatus.CONCLUDED: _l("mediation concluded"),
    CaseStatus.FOLLOW_UP: _l("follow-up"),
    CaseStatus.CLOSED: _l("closed"),
    CaseStatus.ARCHIVED: _l("archived"),
}

OUTCOME_LABELS = {
    Outcome.SUCCESS: _l("settled"),
    Outcome.PARTIAL: _l("partly settled"),
    Outcome.FAILED: _l("not settled"),
    Outcome.TERMINATED: _l("mediation ended"),
}

SOURCE_LABELS = {
    Source.PARTY: _l("party application"),
    Source.SCREENING: _l("own screening"),
    Source.GRID: _l("grid worker"),
    Source.POLICE: _l("police"),
    Source.COURT: _l("court"),
    Source.GOVERNMENT: _l("government department"),
    Source.HOTLINE: _l("12338 hotline"),
    Source.PETITION: _l("petition"),
    Source.OTHER: _l("other"),
}

RISK_LABELS = {
    RiskLevel.NONE: _l("no risk"),
    RiskLevel.YELLOW: _l("yellow"),
    RiskLevel.ORANGE: _l("orange"),
    RiskLevel.RED: _l("red"),
}

PARTY_ROLE_LABELS = {
    PartyRole.APPLICANT: _l("applicant"),
    PartyRole.RESPONDENT: _l("respondent"),
    PartyRole.THIRD_PARTY: _l("third party"),
    PartyRole.AGENT: _l("agent"),
    PartyRole.GUARDIAN: _l("guardian"),
}

SEX_LABELS = {Sex.MALE: _l("male"), Sex.FEMALE: _l("female")}

URGENCY_LABELS = {
    Urgency.NORMAL: _l("normal"),
    Urgency.URGENT: _l("urgent"),
    Urgency.EMERGENCY: _l("emergency: someone may be hurt"),
}

LEAD_STATUS_LABELS = {
    LeadStatus.NEW: _l("new"),
    LeadStatus.CONVERTED: _l("became a case"),
    LeadStatus.DISMISSED: _l("dismissed"),
}

ENTRY_KIND_LABELS = {
    EntryKind.SESSION: _l("mediation session"),
    EntryKind.INVESTIGATION: _l("investigation"),
    EntryKind.VISIT: _l("home visit"),
    EntryKind.CALL: _l("phone call"),
    EntryKind.FOLLOW_UP: _l("follow-up visit"),
    EntryKind.OTHER: _l("other"),
}

MODE_LABELS = {
    SessionMode.JOINT: _l("joint (face to face)"),
    SessionMode.SEPARATE: _l("separate (caucus)"),
    SessionMode.SHUTTLE: _l("shuttle"),
    SessionMode.PHONE: _l("by phone"),
    SessionMode.VIDEO: _l("by video"),
}

PERFORMANCE_LABELS = {
    Performance.PERFORMED: _l("performed"),
    Performance.PARTLY: _l("partly performed"),
    Performance.NOT: _l("not performed"),
}

SATISFACTION_LABELS = {
    Satisfaction.SATISFIED: _l("satisfied"),
    Satisfaction.BASICALLY: _l("basically satisfied"),
    Satisfaction.UNSATISFIED: _l("not satisfied"),
}

AGREEMENT_KIND_LABELS = {AgreementKind.WRITTEN: _l("written agreement"), AgreementKind.ORAL: _l("oral agreement")}

CONFIRMATION_LABELS = {
    Confirmation.NOT_APPLIED: _l("not applied"),
    Confirmation.APPLIED: _l("applied"),
    Confirmation.CONFIRMED: _l("confirmed"),
    Confirmation.REJECTED: _l("rejected"),
}

DOCUMENT_KIND_LABELS = {
    DocumentKind.APPLICATION: _l("application or intake register"),
    DocumentKind.RIGHTS_NOTICE: _l("notice of rights and duties"),
    DocumentKind.ID_PROOF: _l("proof of identity"),
    DocumentKind.AUTHORISATION: _l("power of attorney"),
    DocumentKind.INVESTIGATION: _l("investigation record"),
    DocumentKind.EVIDENCE: _l("evidence"),
    DocumentKind.SESSION_RECORD: _l("mediation record"),
    DocumentKind.AGREEMENT: _l("signed agreement"),
    DocumentKind.RECEIPT: _l("proof of performance"),
    DocumentKind.FOLLOW_UP: _l("follow-up record"),
    DocumentKind.CONFIRMATION: _l("judicial confirmation papers"),
    DocumentKind.OTHER: _l("other"),
}

ESCALATION_REASON_LABELS = {
    EscalationReason.UNSETTLED: _l("could not be settled at this tier"),
    EscalationReason.SAFETY: _l("domestic violence or safety risk"),
    EscalationReason.LARGE_AMOUNT: _l("large amount in dispute"),
    EscalationReason.CROSS_AREA: _l("parties in different villages or towns"),
    EscalationReason.PARTY_REQUEST: _l("at a party's request"),
    EscalationReason.LOCAL_FOLLOW_UP: _l("follow-up and performance locally"),
    EscalationReason.OTHER: _l("other"),
}
TRANSFER_KIND_LABELS = {TransferKind.ESCALATE: _l("escalated"), TransferKind.HAND_DOWN: _l("handed down")}
TRANSFER_STATUS_LABELS = {
    TransferStatus.PENDING: _l("waiting"),
    TransferStatus.ACCEPTED: _l("taken over"),
    TransferStatus.RETURNED: _l("returned"),
    TransferStatus.WITHDRAWN: _l("withdrawn"),
}
REFERRAL_DESTINATION_LABELS = {
    ReferralDestination.COURT_DELEGATED: _l("court: delegated before filing (诉前委派)"),
    ReferralDestination.COURT_ENTRUSTED: _l("court: entrusted after filing (诉中委托)"),
    ReferralDestination.POLICE: _l("police (DV report, warning letter)"),
    ReferralDestination.LEGAL_AID: _l("legal aid"),
    ReferralDestination.SHELTER: _l("shelter"),
    ReferralDestination.JUSTICE_OFFICE: _l("justice office"),
    ReferralDestination.WOMENS_FEDERATION: _l("women's federation (rights protection)"),
    ReferralDestination.SOCIAL_WORK: _l("social work or counselling"),
    ReferralDestination.OTHER: _l("other"),
}
DELEGATION_STATUS_LABELS = {DelegationStatus.OPEN: _l("to do"), DelegationStatus.DONE: _l("done")}
ADVICE_LABELS = {
    "attempts": _l("Several sessions at this tier without settlement: consider escalating."),
    "major": _l("A major dispute: consider escalating it at once."),
    "mass": _l("A mass dispute: consider escalating it at once."),
    "risk": _l("High safety risk: consider escalating it at once."),
}

# Bootstrap colours for chips: status by stage, risk by the familiar warning colours.
STATUS_COLOURS = {
    CaseStatus.REGISTERED: "secondary", CaseStatus.ACCEPTED: "info", CaseStatus.DECLINED: "dark",
    CaseStatus.ASSIGNED: "info", CaseStatus.IN_MEDIATION: "primary", CaseStatus.CONCLUDED: "success",
    CaseStatus.PENDING: "warning",
    CaseStatus.FOLLOW_UP: "success", CaseStatus.CLOSED: "light", CaseStatus.ARCHIVED: "light",
}
RISK_COLOURS = {RiskLevel.NONE: "light", RiskLevel.YELLOW: "warning", RiskLevel.ORANGE: "orange",
                RiskLevel.RED: "danger"}

_ALL = {
    "tier_label": TIER_LABELS, "role_label": ROLE_LABELS, "status_label": STATUS_LABELS,
    "outcome_label": OUTCOME_LABELS, "source_label": SOURCE_LABELS, "risk_label": RISK_LABELS,
    "party_role_label": PARTY_ROLE_LABELS, "sex_label": SEX_LABELS, "urgency_label": URGENCY_LABELS,
    "lead_status_label": LEAD_STATUS_LABELS, "status_colour": STATUS_COLOURS, "risk_colour": RISK_COLOURS,
    "entry_kind_label": ENTRY_KIND_LABELS, "mode_label": MODE_LABELS, "performance_label": PERFORMANCE_LABELS,
    "satisfaction_label": SATISFACTION_LABELS, "agreement_kind_label": AGREEMENT_KIND_LABELS,
    "confirmation_label": CONFIRMATION_LABELS, "document_kind_label": DOCUMENT_KIND_LABELS,
    "escalation_reason_label": ESCALATION_REASON_LABELS, "transfer_kind_label": TRANSFER_KIND_LABELS,
    "transfer_status_label": TRANSFER_STATUS_LABELS, "referral_destination_label": REFERRAL_DESTINATION_LABELS,
    "delegation_status_label": DELEGATION_STATUS_LABELS,
}


def init_app(app) -> None:
    for name, table in _ALL.items():
        app.jinja_env.filters[name] = lambda value, table=table: table.get(value, value)
    # Counts that stop at a bound (lists, home page): 1,000+.
    app.jinja_env.filters["bounded"] = bounded
    app.jinja_env.globals["count_bound"] = count_bound
