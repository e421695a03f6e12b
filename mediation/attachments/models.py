"""Files mediators photograph or scan: signed records, agreements with fingerprints, evidence."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db, enum_column
from ..timeutil import utcnow
from ..users.models import User


class DocumentKind(enum.Enum):
    """Where a file goes in the case file (卷宗) index, DOCUMENTS.md §4."""

    APPLICATION = "application"  # 申请书 / 受理登记表
    RIGHTS_NOTICE = "rights_notice"  # 权利义务告知书
    ID_PROOF = "id_proof"  # 身份证明
    AUTHORISATION = "authorisation"  # 授权委托书
    INVESTIGATION = "investigation"  # 调查记录
    EVIDENCE = "evidence"  # 证据材料
    SESSION_RECORD = "session_record"  # 人民调解记录
    AGREEMENT = "agreement"  # 人民调解协议书
    RECEIPT = "receipt"  # 履行凭证
    FOLLOW_UP = "follow_up"  # 回访记录
    CONFIRMATION = "confirmation"  # 司法确认材料
    OTHER = "other"  # 其他


class Attachment(db.Model):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("diary_entry.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(
        enum_column(DocumentKind))
    title: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded, for the download name only
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # random; never from the user
    content_type: Mapped[str] = mapped_column(String(64))  # from the content, not the name
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    has_thumbnail: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by: Mapped[User] = relationship()

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
