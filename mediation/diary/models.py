"""The mediation diary (调解日记): every session, investigation, visit, call and follow-up."""
import enum
from datetime import date, datetime, time

from sqlalchemy import JSON, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db, enum_column
from ..org.models import OrgUnit
from ..timeutil import utcnow
from ..users.models import User


class EntryKind(enum.Enum):
    SESSION = "session"  # 调解
    INVESTIGATION = "investigation"  # 调查
    VISIT = "visit"  # 走访
    CALL = "call"  # 电话
    FOLLOW_UP = "follow_up"  # 回访
    OTHER = "other"  # 其他


class SessionMode(enum.Enum):
    JOINT = "joint"  # 面对面
    SEPARATE = "separate"  # 背靠背
    SHUTTLE = "shuttle"  # 穿梭
    PHONE = "phone"  # 电话
    VIDEO = "video"  # 视频


class Performance(enum.Enum):
    PERFORMED = "performed"  # 已履行
    PARTLY = "partly"  # 部分履行
    NOT = "not"  # 未履行


class Satisfaction(enum.Enum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY = "basically"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class DiaryEntry(db.Model):
    """One diary entry. Its author may edit it on the day it was written (each earlier
    version kept in ``revisions``); afterwards only amendments are appended. Never deleted."""

    __tablename__ = "diary_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The unit whose work the entry records, at the time: the unit holding the case when it was
    # written (attempts are counted per tier), or for a delegated visit the unit given the visit.
    # Its record prints that unit's committee, whoever holds the case later.
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, 16))
    occurred_on: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time | None]
    duration_minutes: Mapped[int | None]
    place: Mapped[str] = mapped_column(String(200), default="")
    mode: Mapped[SessionMode | None] = mapped_column(enum_column(SessionMode, 16))
    party_ids: Mapped[list] = mapped_column(JSON, default=list)  # parties present
    mediator_ids: Mapped[list] = mapped_column(JSON, default=list)  # mediators present
    others_present: Mapped[str] = mapped_column(String(500), default="")  # with the parties' consent
    issues: Mapped[str] = mapped_column(Text, default="")
    positions: Mapped[dict] = mapped_column(JSON, default=dict)  # party id (str) -> position
    proposals: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(Text, default="")
    next_date: Mapped[date | None] = mapped_column(index=True)
    confidential: Mapped[bool] = mapped_column(default=False)
    # Follow-up visits (回访) record performance, satisfaction and remaining risk.
    performance: Mapped[Performance | None] = mapped_column(enum_column(Performance, 16))
    satisfaction: Mapped[Satisfaction | None] = mapped_column(enum_column(Satisfaction, 16))
    remaining_risk: Mapped[str] = mapped_column(Text, default="")
    # A follow-up's findings per term of the agreement, as the terms read at the visit:
    # [{"term": "三个儿子每月各给母亲生活费600元。", "performance": "partly"}, ...].
    term_performance: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()
    unit: Mapped[OrgUnit] = relationship()  # the unit that held the case when the entry was written
    revisions: Mapped[list["DiaryRevision"]] = relationship(order_by="DiaryRevision.id", back_populates="entry")
    amendments: Mapped[list["Amendment"]] = relationship(order_by="Amendment.id", back_populates="entry")


class DiaryRevision(db.Model):
    """The state of an entry before a same-day edit."""

    __tablename__ = "diary_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entry.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    data: Mapped[dict] = mapped_column(JSON)

    entry: Mapped[DiaryEntry] = relationship(back_populates="revisions")
    by: Mapped[User] = relationship()


class Amendment(db.Model):
    """A correction appended to an entry after its day, with the reason."""

    __tablename__ = "diary_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entry.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)

    entry: Mapped[DiaryEntry] = relationship(back_populates="amendments")
    by: Mapped[User] = relationship()


@event.listens_for(DiaryEntry, "before_delete")
@event.listens_for(DiaryRevision, "before_update")
@event.listens_for(DiaryRevision, "before_delete")
@event.listens_for(Amendment, "before_update")
@event.listens_for(Amendment, "before_delete")
def _never_deleted(_mapper, _conn, target):
    raise RuntimeError(f"diary records are never deleted or rewritten ({type(target).__name__} {target.id})")
