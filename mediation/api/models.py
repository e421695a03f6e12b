"""The API's tables: personal tokens, the outbox of case events and its webhook deliveries,
idempotency keys of creating requests, and where an imported case came from."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from ..users.models import User


class ApiToken(db.Model):
    """A personal API token. Only the SHA-256 of the secret is kept (the token is shown once);
    the token acts as its user. ``opened`` holds the restricted cases opened with a reason
    through this token ({case id: epoch seconds}), as a login session does for the pages."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None]
    last_used_ip: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None]
    opened: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class OutboxEvent(db.Model):
    """A case event for the webhooks, written in the transaction of the change itself."""

    __tablename__ = "api_outbox_event"
    __table_args__ = (Index("ix_api_outbox_event_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"))
    kind: Mapped[str] = mapped_column(String(32))  # registered, accepted, escalated, ...
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Facts of the event, no personal data: statuses, unit codes, outcome, transfer or referral id.
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class WebhookDelivery(db.Model):
    """One event for one configured subscription: delivered, waiting for a retry, or skipped
    (the subscriber's account may not see the case)."""

    __tablename__ = "api_webhook_delivery"
    __table_args__ = (UniqueConstraint("subscription", "event_id", name="uq_api_webhook_delivery_subscription_event"),
                      Index("ix_api_webhook_delivery_subscription_status", "subscription", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int] = mapped_column(ForeignKey("api_outbox_event.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, delivered, skipped
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    response_status: Mapped[int | None]
    delivered_at: Mapped[datetime | None]


class IdempotencyKey(db.Model):
    """A creating request sent with ``Idempotency-Key``: the same key from the same token
    answers the first response again instead of creating twice."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_api_idempotency_key_token_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))  # method, path and body
    status_code: Mapped[int]
    response: Mapped[dict] = mapped_column(JSON, default=dict)
    location: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseImport(db.Model):
    """Where a case taken in through ``POST /api/v1/cases/import`` came from."""

    __tablename__ = "api_case_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), unique=True)
    source_system: Mapped[str] = mapped_column(String(100))  # e.g. 苏解纷, 金坛区人民法院
    external_reference: Mapped[str] = mapped_column(String(100), default="")  # their case number
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    token_name: Mapped[str] = mapped_column(String(64), default="")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The parts of the document kept as received (the sender's history: diary, agreement, transfers),
    # without parties' personal data.
    history: Mapped[dict] = mapped_column(JSON, default=dict)
