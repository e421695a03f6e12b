"""Times are stored as naive UTC and shown in the configured zone."""
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC, naive, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)
