from datetime import UTC, date, datetime

# Row ids are INTEGER columns: a larger number from a URL or a filter names no row (and would
# overflow on PostgreSQL).
LARGEST_ID = 2**31 - 1


def utcnow() -> datetime:
    """Now in UTC, without tzinfo: SQLite and PostgreSQL then store and return the same value."""
    return datetime.now(UTC).replace(tzinfo=None)


# The earliest date a complaint, an incident or a note may carry: an earlier one is a typo (0202 for
# 2020) that would stretch every chart of the archive back to it.
EARLIEST_DATE = date(1970, 1, 1)


def date_problem(value: date, future_allowed: bool = False) -> str | None:
    """Why `value` cannot be the date of something in a case, or None if it can."""
    if value < EARLIEST_DATE:
        return f"This date is before {EARLIEST_DATE.year}: check the year."
    if not future_allowed and value > date.today():
        return "This date is in the future."
    return None
