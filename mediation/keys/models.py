"""The key check value: proof, kept beside the data, of which keys it was written with."""
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow


class KeyCheck(db.Model):
    """One row (id 1): ``crypto.CHECK_LABEL`` encrypted with the first ID encryption key
    and its HMAC with the ID hash key. Written when the database is first used with its
    keys (start-up, ``keys check``, the migration) and rewritten by ``keys rotate``; the
    app refuses to start when the configured keys do not match it."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    encryption_check: Mapped[str] = mapped_column(Text)
    hash_check: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
