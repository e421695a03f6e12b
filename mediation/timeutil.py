"""Times are stored as naive UTC and shown in the configured zone."""
from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Now in UTC, naive, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_today() -> date:
    """Today in the configured zone (a Shanghai morning is still yesterday in UTC)."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def local_date_of(stored: datetime) -> date:
    """The local calendar day of a stored (naive UTC) time."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return stored.replace(tzinfo=UTC).astimezone(zone).date()
