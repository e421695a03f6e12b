"""The one clock. Times are stored as naive UTC and shown in the configured zone
(``BABEL_DEFAULT_TIMEZONE``, default Asia/Shanghai); every "today", "now", due date and
"is it in the future" is counted in that zone, never the server's (a Shanghai morning is
still yesterday on a server running in UTC). This module is the only place that reads
the system clock; ruff's DTZ rules keep the rest of the package from doing it.

The clock can be set for a block of code (``clock_at``): the demo loader replays a year
of cases through the real services, each step at its own date."""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

_frozen: ContextVar[datetime | None] = ContextVar("mediation_clock", default=None)


def zone() -> ZoneInfo:
    """The configured zone in which days are counted."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def utcnow() -> datetime:
    """Now in UTC, naive, as stored in the database."""
    # The one read of the system clock in the package (ruff bans it elsewhere).
    return _frozen.get() or datetime.now(UTC).replace(tzinfo=None)  # noqa: TID251 - the app's one clock


@contextmanager
def clock_at(moment: datetime):
    """Within the block, ``utcnow`` returns ``moment`` (naive UTC) and ``local_today`` its local day."""
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)


def local_now() -> datetime:
    """Now in the configured zone (aware)."""
    return utcnow().replace(tzinfo=UTC).astimezone(zone())


def local_today() -> date:
    """Today in the configured zone."""
    return local_now().date()


def local_date_of(stored: datetime) -> date:
    """The local calendar day of a stored (naive UTC) time."""
    return stored.replace(tzinfo=UTC).astimezone(zone()).date()


def utc_start_of(day: date) -> datetime:
    """The stored (naive UTC) time at which the local ``day`` begins: the bound for
    "on or after this day" in queries over stored times."""
    return datetime.combine(day, time.min, tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)


def age_on(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day`` (a birthday counts on the day itself)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def epoch_seconds() -> int:
    """Now as whole seconds since 1970 (UTC): for session stamps and throttling windows.
    (A naive datetime's ``timestamp()`` would read it in the server's zone.)"""
    return int(utcnow().replace(tzinfo=UTC).timestamp())
