"""Leads (线索): what a grid worker sees on the rounds, before it is a case."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db, enum_column
from ..org.models import OrgUnit
from ..timeutil import utcnow
from ..users.models import User


class Urgency(enum.Enum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急
    EMERGENCY = "emergency"  # 危急 (someone may be hurt now)


class LeadStatus(enum.Enum):
    NEW = "new"  # 待处理
    CONVERTED = "converted"  # 已立案
    DISMISSED = "dismissed"  # 不予立案



class Lead(db.Model):
    __tablename__ = "lead"
    __table_args__ = (Index("ix_lead_unit_status", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    who: Mapped[str] = mapped_column(String(200))
    where: Mapped[str] = mapped_column(String(200))
    what: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency, 16), default=Urgency.NORMAL)
    status: Mapped[LeadStatus] = mapped_column(enum_column(LeadStatus, 16), default=LeadStatus.NEW)
    dismiss_reason: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", use_alter=True))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    handled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[OrgUnit] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])
    case: Mapped["Case | None"] = relationship("Case", foreign_keys=[case_id], viewonly=True)  # noqa: F821
