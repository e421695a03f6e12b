"""Times are stored as naive UTC and shown in the configured zone. The clock can be
set for a block of code (``clock_at``): the demo loader replays a year of cases
through the real services, each step at its own date."""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime

_frozen: ContextVar[datetime | None] = ContextVar("mediation_clock", default=None)


def utcnow() -> datetime:
    """Now in UTC, naive, as stored in the database."""
    return _frozen.get() or datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def clock_at(moment: datetime):
    """Within the block, ``utcnow`` returns ``moment`` (naive UTC) and ``local_today`` its local day."""
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)


def local_today() -> date:
    """Today in the configured zone (a Shanghai morning is still yesterday in UTC)."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    frozen = _frozen.get()
    if frozen is not None:
        return frozen.replace(tzinfo=UTC).astimezone(zone).date()
    return datetime.now(zone).date()


def local_date_of(stored: datetime) -> date:
    """The local calendar day of a stored (naive UTC) time."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return stored.replace(tzinfo=UTC).astimezone(zone).date()
