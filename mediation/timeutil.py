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
