"""Optimistic locking for records without a version column (accounts, units, teaching cases):
the form carries a stamp of the values it was filled from; a save whose stamp no longer
matches the record was made on an older form and is refused, as case and agreement edits are."""
import hashlib
import json

from flask_babel import gettext as _

from .audit.services import last_change
from .i18n import fmt_datetime


def stamp(*values) -> str:
    """A short digest of the editable values as they are now."""
    return hashlib.sha256(json.dumps([str(v) for v in values], ensure_ascii=False).encode()).hexdigest()[:20]


def is_stale(sent: str | None, current: str) -> bool:
    """A form that sent a stamp made from other values (a form without one, e.g. an old
    client's, is not checked)."""
    return bool(sent) and sent != current


def changed_meanwhile(target, actions: tuple[str, ...]) -> str:
    """Why a save made from an older form is refused: who changed the record, and when
    (from the audit log)."""
    event = last_change(target, actions)
    who = event.actor_name if event is not None and event.actor_name else "?"
    when = fmt_datetime(event.at) if event is not None else "?"
    return _("Changed by %(who)s at %(when)s; reload the page and make your change again.", who=who, when=when)
