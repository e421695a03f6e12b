"""Audit events and the head of their hash chain."""
from datetime import datetime

from sqlalchemy import DDL, JSON, BigInteger, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

GENESIS_HASH = "0" * 64


class AuditEvent(db.Model):
    """One audited action. Rows are only ever inserted: ``id`` is the position in the chain
    (1, 2, 3… with no gaps, given under the chain-head lock) and ``hash`` is the SHA-256 of
    the row's canonical form, which includes ``prev_hash``, the hash of the row before."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_action_at", "action", "at"),
        Index("ix_audit_event_actor_at", "actor_id", "at"),
        Index("ix_audit_event_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)  # naive UTC, like every stored time
    actor_id: Mapped[int | None]  # no foreign key: the log outlives anything it names
    actor_name: Mapped[str] = mapped_column(String(64), default="")  # the username then
    # The actor's unit then: a district's log is what its people did there, wherever they
    # work later (access.audit_query). Empty in events written before it was kept.
    actor_unit_id: Mapped[int | None]
    ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


class AuditChainHead(db.Model):
    """One row (id 1): the last position and hash of the chain. Appending updates it
    first, which serialises appends across processes and servers (a row lock on
    PostgreSQL, the write lock on SQLite) and lets ``verify`` notice rows cut off the end."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


# Databases made with create_all (tests) get the head row as the migration makes it.
event.listen(
    AuditChainHead.__table__, "after_create",
    DDL(f"INSERT INTO audit_chain_head (id, last_id, last_hash) VALUES (1, 0, '{GENESIS_HASH}')"),
)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(_mapper, _conn, target):
    raise RuntimeError(f"audit events are append-only (event {target.id})")
