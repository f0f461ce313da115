from datetime import UTC, datetime

# Row ids are INTEGER columns: a larger number from a URL or a filter names no row (and would
# overflow on PostgreSQL).
LARGEST_ID = 2**31 - 1


def utcnow() -> datetime:
    """Now in UTC, without tzinfo: SQLite and PostgreSQL then store and return the same value."""
    return datetime.now(UTC).replace(tzinfo=None)
