from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now in UTC, without tzinfo: SQLite and PostgreSQL then store and return the same value."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
