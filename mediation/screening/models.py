"""Screenings (each party asked alone; never changed), safety plans, and every change
of a case's risk level with who and why."""
import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Numeric, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..cases.models import RiskLevel
from ..extensions import db, enum_column
from ..timeutil import utcnow
from ..users.models import User


class Occasion(enum.Enum):
    """When SCREENING.md asks to screen (again)."""

    INTAKE = "intake"  # 受理时
    PRE_SESSION = "pre_session"  # 每次调解前
    INCIDENT = "incident"  # 新发事件、告诫书或保护令之后
    SEPARATION = "separation"  # 分居、离婚时
    PRE_SIGNING = "pre_signing"  # 签署协议前（是否受胁迫）
    CLOSURE = "closure"  # 结案时
    FOLLOW_UP = "follow_up"  # 回访时


class Screening(db.Model):
    __tablename__ = "screening"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id"), index=True)
    occasion: Mapped[Occasion] = mapped_column(enum_column(Occasion, 16))
    asked_alone: Mapped[bool] = mapped_column(default=True)
    answers: Mapped[dict] = mapped_column(JSON)  # item number (str) -> yes/no/unsure
    unsafe_tonight: Mapped[bool] = mapped_column(default=False)
    breach: Mapped[bool] = mapped_column(default=False)  # of a warning letter or protection order
    child_harmed: Mapped[bool] = mapped_column(default=False)
    score: Mapped[float] = mapped_column(Numeric(5, 1))
    level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, 16))
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User] = relationship()
    party = relationship("Party")


class SafetyPlan(db.Model):
    """What was arranged to keep the person at risk safe (required before an orange case is settled)."""

    __tablename__ = "safety_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    measures: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User] = relationship()


class RiskChange(db.Model):
    """A change of the case's governing level: by a screening, raised by a mediator,
    or lowered by a coordinator with a reason."""

    __tablename__ = "risk_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    from_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, 16))
    to_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, 16))
    reason: Mapped[str] = mapped_column(Text, default="")
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("screening.id"))
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User] = relationship()


@event.listens_for(Screening, "before_update")
@event.listens_for(Screening, "before_delete")
@event.listens_for(RiskChange, "before_update")
@event.listens_for(RiskChange, "before_delete")
def _kept_as_written(_mapper, _conn, target):
    raise RuntimeError(f"{type(target).__name__} {target.id} is kept as written")
