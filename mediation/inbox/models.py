"""One line of a user's inbox."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class Notification(db.Model):
    """Something that needs a user: stored language-neutral (kind + params) and
    worded when shown. ``key`` makes each thing arrive once per user."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_notification_user_key"),
        Index("ix_notification_user_read", "user_id", "read_at"),
        Index("ix_notification_user_created", "user_id", "created_at", "id"),  # the inbox, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # 0 ordinary; 1 urgent, 2 emergency (a lead: someone may be hurt): unread, at the top, marked.
    priority: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    # Dealt with (the step it asked for was taken, or the case was closed): by whom and when.
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    case = relationship("Case")
    done_by = relationship("User", foreign_keys=[done_by_id])
