"""One tap, one record: every form that creates something is sent at most once.

Each rendered form carries a one-time submission key (the hidden field ``submission_key``,
drawn by the template global of the same name; a JSON client sends the same as an
``Idempotency-Key`` header). The view claims the key in the transaction that creates the
record and notes where the user lands; the row is unique per user and key. A second POST
with the same key creates nothing and lands where the first did:

- sent after the first one committed: ``Once.check`` finds the key and answers ``Duplicate``;
- sent at the same instant: its ``claim`` waits on the unique key for the first
  transaction (PostgreSQL's unique index, SQLite's write lock), gets the IntegrityError,
  rolls back and answers ``Duplicate`` with the first one's target.

``Duplicate`` is turned into a redirect to that target by the error handler below. A form
whose save is refused (a validation or domain error) rolls its claim back with everything
else, so the same form can be corrected and sent again. Keys are kept for
``SUBMISSION_KEY_HOURS`` (a day): longer than any form stays open in a session; each
claim removes its user's expired keys (a few rows, by index).

The core (``claim``, ``remember``, ``landed``) knows no forms: the JSON API uses the same
table through the header. JavaScript also disables a submit button after its first tap
(static/app.js), a convenience, not the guard.
"""
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app, flash, redirect, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .timeutil import utcnow

FIELD = "submission_key"
HEADER = "Idempotency-Key"
KEY_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class SubmissionKey(db.Model):
    """A submission key taken by a user, and where its submission landed."""

    __tablename__ = "submission_key"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_submission_key_user_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Duplicate(Exception):  # noqa: N818  (the name says what happened)
    """This submission was made already: ``target`` is where the first one landed."""

    def __init__(self, target: str):
        super().__init__(target)
        self.target = target


def new_key() -> str:
    return secrets.token_urlsafe(18)


def valid(key: str | None) -> bool:
    return bool(key) and KEY_RE.fullmatch(key) is not None


# --- the core: no forms, no request ------------------------------------------------------

def landed(key: str, user_id: int) -> str | None:
    """Where the completed submission with this key landed, or None."""
    row = db.session.scalar(select(SubmissionKey).where(SubmissionKey.user_id == user_id,
                                                        SubmissionKey.key == key))
    return (row.target or "/") if row is not None else None


def _purge(user_id: int) -> None:
    """The user's keys older than SUBMISSION_KEY_HOURS go (a few rows, found by the key's index)."""
    cutoff = utcnow() - timedelta(hours=current_app.config["SUBMISSION_KEY_HOURS"])
    db.session.execute(delete(SubmissionKey).where(SubmissionKey.user_id == user_id,
                                                   SubmissionKey.created_at < cutoff))


def claim(key: str, user_id: int) -> SubmissionKey:
    """Take ``key`` in the current transaction, before anything else is written in it.

    :raise Duplicate: a submission with this key was completed (if it was running at the
        same moment, after waiting for it); the transaction is rolled back.
    """
    done = landed(key, user_id)
    if done is not None:
        raise Duplicate(done)
    _purge(user_id)
    row = SubmissionKey(user_id=user_id, key=key, created_at=utcnow())
    db.session.add(row)
    try:
        db.session.flush()  # waits here for a transaction holding the same key
    except IntegrityError:
        db.session.rollback()
        raise Duplicate(landed(key, user_id) or "/") from None
    return row


def remember(row: SubmissionKey, target: str) -> str:
    """Note where the submission lands (before the commit); returns ``target``."""
    row.target = target[:500]
    return target


# --- the web side -------------------------------------------------------------------------

class Once:
    """The submission key of the form being handled (none: nothing is guarded, as for a
    client that sends no key)."""

    def __init__(self, key: str | None, user):
        self.key = key if valid(key) else None
        self.user_id = user.id
        self.row: SubmissionKey | None = None

    @classmethod
    def posted(cls, user) -> "Once":
        """The key of this request; a POST whose key was used already raises ``Duplicate``."""
        key = (request.form.get(FIELD) or request.headers.get(HEADER)) if request.method == "POST" else None
        once = cls(key, user)
        once.check()
        return once

    def check(self) -> None:
        """:raise Duplicate: a submission with this key was completed."""
        if self.key is not None and (done := landed(self.key, self.user_id)) is not None:
            raise Duplicate(done)

    def claim(self) -> None:
        """Take the key now, before the record is written (see ``claim``)."""
        if self.key is not None and self.row is None:
            self.row = claim(self.key, self.user_id)

    def land(self, target: str) -> str:
        """Where this submission lands; call before the commit. Returns ``target``."""
        if self.row is not None:
            remember(self.row, target)
        return target


def _hidden_field() -> Markup:
    """A fresh key for a form being drawn: ``{{ submission_key() }}`` beside its CSRF token."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, new_key())


def init_app(app) -> None:
    app.add_template_global(_hidden_field, "submission_key")

    @app.errorhandler(Duplicate)
    def _duplicate(exc: Duplicate):
        db.session.rollback()
        flash(_("Already saved: the form was sent twice and saved once."), "info")
        # Only a path of this site (what ``land`` was given) is followed.
        target = exc.target if exc.target.startswith("/") and not exc.target.startswith("//") else "/"
        return redirect(target, 303)
