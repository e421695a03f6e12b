"""Cases, their parties, the timeline, drafts and the case-number counter."""
import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, SmallInteger, String, Text, UniqueConstraint, event, orm
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedId, cipher_for, normalise_id
from ..extensions import db, enum_column
from ..org.models import OrgUnit
from ..timeutil import utcnow
from ..users.models import User
from . import idnumber


class CaseStatus(enum.Enum):
    """Where a case stands; the moves between statuses are the table in ``workflow``."""

    REGISTERED = "registered"  # 登记
    ACCEPTED = "accepted"  # 受理
    DECLINED = "declined"  # 不予受理
    ASSIGNED = "assigned"  # 已指派
    IN_MEDIATION = "in_mediation"  # 调解中
    PENDING = "pending_transfer"  # 待接收: sent up or down, waiting for the receiving unit
    CONCLUDED = "concluded"  # 调解结束 (see the outcome)
    FOLLOW_UP = "follow_up"  # 回访
    CLOSED = "closed"  # 结案
    ARCHIVED = "archived"  # 归档


class Outcome(enum.Enum):
    SUCCESS = "success"  # 调解成功
    PARTIAL = "partial"  # 部分成功
    FAILED = "failed"  # 调解不成
    TERMINATED = "terminated"  # 调解终止


# Statuses in which the mediation clock runs (overdue is counted only here).
OPEN_STATUSES = frozenset({CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION})
# Statuses in which the case record itself may still be edited.
EDITABLE_STATUSES = frozenset({
    CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION,
    CaseStatus.CONCLUDED, CaseStatus.FOLLOW_UP,
})
SETTLED = frozenset({Outcome.SUCCESS, Outcome.PARTIAL})


class Source(enum.Enum):
    """How the dispute reached the committee (DOMAIN.md §1)."""

    PARTY = "party"  # 当事人申请
    SCREENING = "screening"  # 主动排查
    GRID = "grid"  # 网格员
    POLICE = "police"  # 公安机关
    COURT = "court"  # 人民法院
    GOVERNMENT = "government"  # 政府部门
    HOTLINE = "hotline"  # 12338 热线
    PETITION = "petition"  # 信访
    OTHER = "other"  # 其他


class RiskLevel(enum.Enum):
    NONE = "none"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


ORDER = [RiskLevel.NONE, RiskLevel.YELLOW, RiskLevel.ORANGE, RiskLevel.RED]


def rank(level: RiskLevel) -> int:
    return ORDER.index(level)


def higher(a: RiskLevel, b: RiskLevel) -> RiskLevel:
    return a if rank(a) >= rank(b) else b


class PartyRole(enum.Enum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    THIRD_PARTY = "third_party"
    AGENT = "agent"
    GUARDIAN = "guardian"


class Sex(enum.Enum):
    MALE = "male"
    FEMALE = "female"


class Category(db.Model):
    """A dispute category; the list is kept by station admins. 家暴 is a risk flag, not a category."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Years after archiving before a case is anonymised; None: MEDIATION_RETENTION_YEARS.
    retention_years: Mapped[int | None]

    def __repr__(self) -> str:
        return f"<Category {self.code}>"


class Case(db.Model):
    __tablename__ = "case_record"
    __table_args__ = (
        UniqueConstraint("station_id", "year", "seq", name="uq_case_record_station_year_seq"),
        Index("ix_case_record_unit_status", "unit_id", "status"),
        # A mediator's open cases (the home page's 我的在办) without reading every case they ever led.
        Index("ix_case_record_lead_mediator_status", "lead_mediator_id", "status"),
        Index("ix_case_record_due_date", "due_date"),
        Index("ix_case_record_intake_date", "intake_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    year: Mapped[int]
    seq: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the holding unit
    origin_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    source: Mapped[Source] = mapped_column(enum_column(Source))
    referrer: Mapped[str] = mapped_column(String(100), default="")
    intake_date: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    claims: Mapped[str] = mapped_column(Text, default="")
    amount_in_dispute: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    people_involved: Mapped[int] = mapped_column(default=2)
    children_involved: Mapped[int] = mapped_column(default=0)
    is_major: Mapped[bool] = mapped_column(default=False)
    is_mass: Mapped[bool] = mapped_column(default=False)
    risk_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel), default=RiskLevel.NONE)
    dv_flag: Mapped[bool] = mapped_column(default=False)
    consent_to_mediate: Mapped[bool] = mapped_column(default=False)
    # Restricted (限制访问): only the users named in case_access see it (see access.cases_query).
    restricted: Mapped[bool] = mapped_column(default=False, server_default="0")
    rights_notice_date: Mapped[date | None]
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.REGISTERED)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    lead_mediator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    accepted_at: Mapped[datetime | None]
    due_date: Mapped[date | None]  # acceptance + the mediation time limit
    concluded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    # Retention (mediation/retention): a hold keeps the case from being anonymised.
    legal_hold: Mapped[bool] = mapped_column(default=False)
    anonymised_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    unit: Mapped[OrgUnit] = relationship(foreign_keys=[unit_id])
    origin_unit: Mapped[OrgUnit] = relationship(foreign_keys=[origin_unit_id])
    category: Mapped[Category] = relationship()
    lead_mediator: Mapped[User | None] = relationship(foreign_keys=[lead_mediator_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    co_mediators: Mapped[list[User]] = relationship(secondary="case_co_mediator", order_by="User.id")
    named_users: Mapped[list[User]] = relationship(secondary="case_access", order_by="User.id")
    parties: Mapped[list["Party"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Party.position"
    )
    events: Mapped[list["CaseEvent"]] = relationship(back_populates="case", order_by="CaseEvent.id")
    # The hand-over waiting for the receiving unit (see transfers), if any. Named as strings:
    # transfers build on cases, so this module does not import them.
    pending_transfer: Mapped["Transfer | None"] = relationship(  # noqa: F821
        "Transfer", primaryjoin="and_(Transfer.case_id == Case.id, Transfer.status == 'pending')", viewonly=True,
        uselist=False)
    holdings: Mapped[list["CaseHolding"]] = relationship(  # noqa: F821
        "CaseHolding", order_by="CaseHolding.id", viewonly=True)

    def __repr__(self) -> str:
        return f"<Case {self.number}>"

    @property
    def mediator_ids(self) -> set[int]:
        ids = {u.id for u in self.co_mediators}
        if self.lead_mediator_id:
            ids.add(self.lead_mediator_id)
        return ids

    def parties_with(self, role: PartyRole) -> list["Party"]:
        return [p for p in self.parties if p.role is role]


class CaseVisibility(db.Model):
    """Who may see a case: the one access rule (``access.cases_query``) worked out ahead.

    One row per case and per unit that sees it: the holder, every unit the case passed
    through (``CaseHolding``), the unit a pending transfer waits at, every unit given a
    follow-up visit on it (``Delegation``), and every ancestor of those up to their station
    (never above it: a city or province unit sees no case). "The cases of my area" is then
    ``unit_id = my unit``, one index range, in the list order kept here.

    Derived data, written by ``mediation.visibility`` in the same flush as each change of
    holder, transfer, delegation, restriction, status, intake or due date, or of a unit's
    place in the tree; ``visibility.rebuild`` recomputes it from those rows."""

    __tablename__ = "case_visibility"
    __table_args__ = (
        # Newest / oldest first; by status (tabs, counts: covering); by due date; by number.
        Index("ix_case_visibility_unit_intake", "unit_id", "intake_date", "case_id"),
        Index("ix_case_visibility_unit_status", "unit_id", "status", "intake_date", "case_id", "held", "restricted"),
        Index("ix_case_visibility_unit_due", "unit_id", "due_key", "case_id"),
        Index("ix_case_visibility_unit_number", "unit_id", "year", "seq", "case_id"),
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    # HOLDS: this unit holds the case; BELOW: the holder is below it; SEES: it only reads the case.
    held: Mapped[int] = mapped_column(SmallInteger)
    # Copies of the case's columns, for filtering and ordering inside the index.
    restricted: Mapped[bool]
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus))
    intake_date: Mapped[date]
    # The due date while the mediation clock runs (OPEN_STATUSES), else FAR_DUE (sorts last):
    # "overdue" is due_key < today, one index range.
    due_key: Mapped[date]
    year: Mapped[int]
    seq: Mapped[int]


# CaseVisibility.held
SEES, BELOW, HOLDS = 0, 1, 2
FAR_DUE = date(9999, 12, 31)


case_access = db.Table(
    "case_access",
    db.Column("case_id", ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True),
    db.Column("user_id", ForeignKey("user_account.id"), primary_key=True),
)


case_co_mediator = db.Table(
    "case_co_mediator",
    db.Column("case_id", ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True),
    db.Column("user_id", ForeignKey("user_account.id"), primary_key=True),
    Index("ix_case_co_mediator_user_id", "user_id", "case_id"),  # a mediator's cases as co-mediator
)


class Party(db.Model):
    __tablename__ = "party"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    role: Mapped[PartyRole] = mapped_column(enum_column(PartyRole))
    name: Mapped[str] = mapped_column(String(50), index=True)
    sex: Mapped[Sex | None] = mapped_column(enum_column(Sex, 8))
    ethnicity: Mapped[str] = mapped_column(String(16), default="")
    birth_date: Mapped[date | None]
    occupation: Mapped[str] = mapped_column(String(50), default="")
    # Encrypted at rest (column id_number_enc), in clear in Python; in a query,
    # ``Party.id_number == x`` compares keyed hashes (mediation/crypto.py).
    id_number: Mapped[str] = mapped_column("id_number_enc", EncryptedId(hash_column="id_hash"), default="")
    # HMAC of the normalised number, kept by the validator below: finds the same person elsewhere.
    id_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    relationship: Mapped[str] = mapped_column(String(50), default="")
    is_minor: Mapped[bool] = mapped_column(default=False)

    # orm.relationship: the column above shadows the name inside this class body.
    case: Mapped[Case] = orm.relationship(back_populates="parties")

    @orm.validates("id_number")
    def _keep_id_hash(self, _key, value):
        value = normalise_id(value)  # stored and hashed folded: ３２０４… is 3204…
        self.id_hash = cipher_for().hash(value)
        return value

    @property
    def known_birth_date(self) -> date | None:
        """The birth date entered, else the one a valid ID number carries."""
        if self.birth_date is not None:
            return self.birth_date
        return idnumber.birth_date_of(self.id_number) if idnumber.is_valid(self.id_number or "") else None

    @property
    def id_masked(self) -> str:
        """3204**********1234: the first four and last four characters."""
        return mask_id(self.id_number)


def mask_name(value: str) -> str:
    """汤桂珍 -> 汤**: lists show who without naming them in full."""
    return value[:1] + "*" * (len(value) - 1) if value else ""


def mask_id(value: str) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


class CaseEvent(db.Model):
    """One line of the timeline; never changed or deleted."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(32))  # "created", "edited" or a transition name
    from_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    to_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    note: Mapped[str] = mapped_column(Text, default="")
    # {field: [old, new]} for edits; other details for transitions.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


@event.listens_for(CaseEvent, "before_update")
@event.listens_for(CaseEvent, "before_delete")
def _events_are_immutable(_mapper, _conn, target):
    raise RuntimeError(f"case events are append-only (event {target.id})")


class CaseNumberCounter(db.Model):
    """The last number given per station and year; incremented atomically at registration."""

    __tablename__ = "case_number_counter"

    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)


class CaseDraft(db.Model):
    """A half-written intake form, saved while typing so nothing is lost."""

    __tablename__ = "case_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # form field -> list of values
    title: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
