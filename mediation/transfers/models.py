"""How a case moves: between tiers (transfers), out of the network (referrals),
and the follow-up visits a holder gives to a unit the case came from (delegations).
The rules for each step live in ``cases.workflow``; these are the records."""
import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db, enum_column
from ..leads.models import Urgency  # one urgency scale for leads and transfers
from ..org.models import OrgUnit
from ..timeutil import utcnow
from ..users.models import User


class TransferKind(enum.Enum):
    ESCALATE = "escalate"  # 上报: to a unit above
    HAND_DOWN = "hand_down"  # 下派: to a unit below


class TransferStatus(enum.Enum):
    PENDING = "pending"  # 待接收
    ACCEPTED = "accepted"  # 已接收
    RETURNED = "returned"  # 已退回
    WITHDRAWN = "withdrawn"  # 已撤回


class EscalationReason(enum.Enum):
    UNSETTLED = "unsettled"  # 本级调解不成
    SAFETY = "safety"  # 家暴或安全风险
    LARGE_AMOUNT = "large_amount"  # 涉及金额较大
    CROSS_AREA = "cross_area"  # 当事人跨村（社区）或跨镇（街道）
    PARTY_REQUEST = "party_request"  # 当事人要求
    LOCAL_FOLLOW_UP = "local_follow_up"  # 下派：就地回访、履行监督
    OTHER = "other"  # 其他（须说明）


class Transfer(db.Model):
    """One hand-over of a case between units, waiting for the receiver's decision."""

    __tablename__ = "case_transfer"
    __table_args__ = (Index("ix_case_transfer_to_unit_status", "to_unit_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    kind: Mapped[TransferKind] = mapped_column(enum_column(TransferKind, 16))
    from_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    # The case's status before it was sent: restored on return or withdrawal.
    from_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[EscalationReason] = mapped_column(enum_column(EscalationReason, 24))
    reason_text: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency, 16), default=Urgency.NORMAL)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[TransferStatus] = mapped_column(enum_column(TransferStatus, 16), default=TransferStatus.PENDING)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")  # the reason for a return

    from_unit: Mapped[OrgUnit] = relationship(foreign_keys=[from_unit_id])
    to_unit: Mapped[OrgUnit] = relationship(foreign_keys=[to_unit_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class CaseHolding(db.Model):
    """A period during which a unit held the case. The first row is the unit that
    registered it; every accepted transfer closes one and opens the next. Every unit
    listed here keeps read-only sight of the case (see ``access.cases_query``)."""

    __tablename__ = "case_holding"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)
    until: Mapped[datetime | None]
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("case_transfer.id"))

    unit: Mapped[OrgUnit] = relationship()


class ReferralDestination(enum.Enum):
    COURT_DELEGATED = "court_delegated"  # 法院诉前委派调解
    COURT_ENTRUSTED = "court_entrusted"  # 法院诉中委托调解
    POLICE = "police"  # 公安机关（含家暴报警、告诫书）
    LEGAL_AID = "legal_aid"  # 法律援助
    SHELTER = "shelter"  # 庇护所
    JUSTICE_OFFICE = "justice_office"  # 司法所
    WOMENS_FEDERATION = "womens_federation"  # 妇联维权
    SOCIAL_WORK = "social_work"  # 社工、心理服务
    OTHER = "other"


class Referral(db.Model):
    """A referral out of the network; it does not end the case by itself."""

    __tablename__ = "case_referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    destination: Mapped[ReferralDestination] = mapped_column(enum_column(ReferralDestination, 24))
    destination_name: Mapped[str] = mapped_column(String(100), default="")
    referred_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(64), default="")  # 文书或案件编号
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    outcome_on: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.outcome_on is None


class DelegationStatus(enum.Enum):
    OPEN = "open"
    DONE = "done"


class Delegation(db.Model):
    """A follow-up visit the holder asks a unit the case came from (or a unit below
    it) to make; the visit is recorded as a diary entry on the case."""

    __tablename__ = "case_delegation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    instruction: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date]
    status: Mapped[DelegationStatus] = mapped_column(enum_column(DelegationStatus, 16),
                                                     default=DelegationStatus.OPEN)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("diary_entry.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]

    unit: Mapped[OrgUnit] = relationship()
    created_by: Mapped[User] = relationship()
