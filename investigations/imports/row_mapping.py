"""What a mapper makes of a CSV row (NewCase or RowRejected), the Mapper protocol, and the checks of row values."""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from ..businesses.naming import normalize_business_name
from ..models.cases import SOURCE_ID_MAX
from ..models.common import EARLIEST_DATE

TITLE_MAX = 200
NAME_MAX = 200
FIELD_MAX = 200  # the CFPB's product, issue, company response… as columns


class RowRejected(ValueError):
    """This row cannot become a case; the message is the reason shown in the report."""


@dataclass
class NewCase:
    """One row, ready to be filed."""

    business_name: str
    title: str
    narrative: str
    date_received: date
    timeline_body: str
    category: str = "other"
    source_id: str | None = None  # the source's own ID: a complaint with one is imported once
    complainant_name: str = "Unknown complainant"
    complainant_email: str | None = None
    complainant_phone: str | None = None
    complainant_address: str | None = None
    consent_to_publish: bool = False
    amount_in_dispute: Decimal | None = None
    tags: list[str] = field(default_factory=list)
    business_response: str | None = None
    response_requested_on: date | None = None
    response_received_on: date | None = None
    # The CFPB's own fields (None for other sources)
    product: str | None = None
    sub_product: str | None = None
    issue: str | None = None
    sub_issue: str | None = None
    company_response: str | None = None
    timely_response: bool | None = None
    consumer_disputed: bool | None = None
    submitted_via: str | None = None
    consumer_state: str | None = None
    consumer_zip: str | None = None


class Mapper(Protocol):
    source: str  # the cases' `source` (models.cases.SOURCES)

    def bind(self, header: list[str]) -> None:
        """Find the columns in the header; raise ImportAborted if required ones are missing."""

    def parse(self, values: list[str], line: int) -> NewCase:
        """The row as a NewCase; raise RowRejected with the reason(s) if it cannot be one."""

    def audit_details(self) -> dict:
        """What to add to the run's audit event."""


# --- Values ----------------------------------------------------------------------------------

def parse_date(text: str, us_dates: bool = False) -> date | None:
    """2023-04-05, 2023-04-05T00:00:00, 2023-04-05T12:00:00Z (the date as written, not moved to UTC);
    with us_dates also 04/05/2023 and 04/05/23 (the CFPB's older exports). None if unreadable."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    if us_dates:
        for pattern in ("%m/%d/%Y", "%m/%d/%y"):
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                pass
    return None


def required_date(text: str, column: str, problems: list[str], us_dates: bool = False) -> date | None:
    """The date of a required column, or None after adding the reason to `problems`."""
    if not text.strip():
        problems.append(f"missing {column}")
        return None
    value = parse_date(text, us_dates)
    if value is None:
        problems.append(f"unreadable date \"{shorten(text)}\" in {column} (expected YYYY-MM-DD)")
    elif value > date.today():
        problems.append(f"{column} {value.isoformat()} is in the future")
        return None
    elif value < EARLIEST_DATE:
        problems.append(f"{column} {value.isoformat()} is before {EARLIEST_DATE.year}")
        return None
    return value


@lru_cache(maxsize=65536)
def normalized_name(name: str) -> str:
    """normalize_business_name, remembered: a file names the same few thousand companies again and again."""
    return normalize_business_name(name)


def check_business_name(name: str, column: str, problems: list[str]) -> str:
    name = " ".join(name.split())
    if not name:
        problems.append(f"missing {column}")
    elif len(name) > NAME_MAX:
        problems.append(f"{column} is longer than {NAME_MAX} characters")
    elif not normalized_name(name):
        problems.append(f"{column} \"{shorten(name)}\" has no letters or digits")
    return name


def check_source_id(value: str, column: str, problems: list[str]) -> str | None:
    value = " ".join(value.split())
    if not value:
        return None
    if len(value) > SOURCE_ID_MAX:
        problems.append(f"{column} is longer than {SOURCE_ID_MAX} characters")
        return None
    return value


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def shorten(text: str, limit: int = 40) -> str:
    """A value quoted in a reason: one line, not too long."""
    return truncate(" ".join(text.split()), limit)


def tag_names(names) -> list[str]:
    """Tags as the case form stores them: lower-case, single-spaced, at most 60 characters, once each."""
    cleaned = {" ".join(name.split()).lower()[:60].strip() for name in names}
    return sorted(name for name in cleaned if name)

