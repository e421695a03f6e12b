"""e家学 teaching cases (以案释法案例): anonymised lessons drawn from closed cases."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..cases.models import Category
from ..extensions import db, enum_column
from ..timeutil import utcnow
from ..users.models import User


class TeachingStatus(enum.Enum):
    DRAFT = "draft"  # 草稿: only its author sees it
    SUBMITTED = "submitted"  # 待审核: the author and the station's reviewers
    APPROVED = "approved"  # 已审核: ready to publish
    PUBLISHED = "published"  # 已发布: in the library, for every staff user
    REJECTED = "rejected"  # 退回: back to the author, with the reason


EDITABLE = frozenset({TeachingStatus.DRAFT, TeachingStatus.REJECTED})


class TeachingCase(db.Model):
    __tablename__ = "teaching_case"
    __table_args__ = (Index("ix_teaching_case_status_category", "status", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The case it was drawn from: never shown in the library (the text is anonymised).
    source_case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id", ondelete="SET NULL"),
                                                       index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    facts: Mapped[str] = mapped_column(Text, default="")  # 基本案情
    process: Mapped[str] = mapped_column(Text, default="")  # 调解过程
    outcome: Mapped[str] = mapped_column(Text, default="")  # 调解结果
    legal_point: Mapped[str] = mapped_column(Text, default="")  # 法律要点 / 以案释法
    status: Mapped[TeachingStatus] = mapped_column(enum_column(TeachingStatus, 16), default=TeachingStatus.DRAFT)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    category: Mapped[Category] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])

    TEXT_FIELDS = ("title", "facts", "process", "outcome", "legal_point")

    def __repr__(self) -> str:
        return f"<TeachingCase {self.id} {self.status.value}>"
