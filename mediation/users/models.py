"""Accounts, their roles and the persisted record of login attempts."""
import enum
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, enum_column
from ..org.models import OrgUnit
from ..timeutil import utcnow


class Role(enum.Enum):
    MEDIATOR = "mediator"
    COORDINATOR = "coordinator"
    GRID_WORKER = "grid_worker"
    ADMIN = "admin"
    VIEWER = "viewer"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # The admin reset the password: the user must choose a new one at next login.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Bumped on password change, reset and deactivation: old sessions stop working.
    auth_version: Mapped[int] = mapped_column(default=1)
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # When the user last looked for things coming due (inbox.services.sync_due): the next
    # look reads what changed since then and what came due since that day, not the caseload.
    inbox_synced_at: Mapped[datetime | None]

    unit: Mapped[OrgUnit] = relationship(lazy="joined", innerjoin=True)
    role_rows: Mapped[list["UserRole"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    # Flask-Login: the id carries the auth version so a reset logs out other sessions.
    def get_id(self) -> str:
        return f"{self.id}:{self.auth_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    def set_roles(self, roles) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted]
        have = {r.role for r in self.role_rows}
        for role in sorted(wanted - have, key=lambda r: r.value):
            self.role_rows.append(UserRole(role=role))

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


def hash_password(password: str) -> str:
    """Werkzeug scrypt hash, with the configured cost."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


class UserRole(db.Model):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(
        enum_column(Role, 16)
    )


class LoginAttempt(db.Model):
    """One login try. Kept in the database so throttling holds across worker processes."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginThrottle(db.Model):
    """Failed logins counted per key and window (``users.services.authenticate``): one row
    per address, and per username at an address, for each LOGIN_WINDOW_MINUTES window. The
    count is taken by one atomic upsert before the password is checked, so parallel guesses
    on several workers cannot slip past the limit."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(index=True)  # epoch seconds // window length
    failures: Mapped[int] = mapped_column(default=0)

