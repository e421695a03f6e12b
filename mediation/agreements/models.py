"""The mediation agreement (调解协议书, PML art. 29) and its judicial confirmation (PML art. 33)."""
import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db, enum_column
from ..org.models import OrgUnit
from ..timeutil import utcnow
from ..users.models import User


class AgreementKind(enum.Enum):
    WRITTEN = "written"  # 书面协议
    ORAL = "oral"  # 口头协议: the mediator records its content (PML 28)


class Confirmation(enum.Enum):
    NOT_APPLIED = "not_applied"  # 未申请
    APPLIED = "applied"  # 已申请
    CONFIRMED = "confirmed"  # 已确认
    REJECTED = "rejected"  # 驳回


class Agreement(db.Model):
    __tablename__ = "agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), unique=True)
    # The unit holding the case when the agreement was last written: its committee signs and seals it.
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[AgreementKind] = mapped_column(enum_column(AgreementKind, 16), default=AgreementKind.WRITTEN)
    reached_on: Mapped[date]
    facts: Mapped[str] = mapped_column(Text, default="")  # 纠纷主要事实
    disputed_points: Mapped[str] = mapped_column(Text, default="")  # 争议事项及各方责任
    copies: Mapped[int] = mapped_column(default=3)  # one per party plus one for the committee
    confirmation: Mapped[Confirmation] = mapped_column(enum_column(Confirmation, 16), default=Confirmation.NOT_APPLIED)
    confirmation_applied_on: Mapped[date | None]
    confirmation_decided_on: Mapped[date | None]
    confirmation_court: Mapped[str] = mapped_column(String(100), default="")
    confirmation_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Optimistic locking, as for case edits: a save made on an older version is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    unit: Mapped[OrgUnit] = relationship()
    terms: Mapped[list["AgreementTerm"]] = relationship(
        cascade="all, delete-orphan", order_by="AgreementTerm.position", back_populates="agreement"
    )

    __mapper_args__ = {"version_id_col": version}


class AgreementTerm(db.Model):
    """One agreed term with its method and deadline of performance."""

    __tablename__ = "agreement_term"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    content: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(500), default="")  # 履行方式
    deadline: Mapped[str] = mapped_column(String(200), default="")  # 履行期限, e.g. 每月5日前 or a date

    agreement: Mapped[Agreement] = relationship(back_populates="terms")
