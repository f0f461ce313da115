"""Jinja filters and globals used across templates.

Times are stored in UTC without tzinfo; every time on screen is shown in the newsroom's zone
(NEWSROOM_TIMEZONE, or the server's own zone when it is empty), with the zone's abbreviation.
"""
import os
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import has_app_context
from flask_login import current_user

from .models.cases import CATEGORIES, STATUS_LABELS, Status


def format_date(value: date | datetime | None) -> str:
    """A date; a stored time is shown as its date in the newsroom's zone."""
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%-d %b %Y") if value else "—"


@lru_cache(maxsize=8)
def _zone(name: str) -> tzinfo:
    if name:
        return ZoneInfo(name)
    # The server's zone: TZ, or the zone /etc/localtime names, else the system's current offset.
    for candidate in (os.environ.get("TZ", "").lstrip(":"), _localtime_name()):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                pass
    return datetime.now().astimezone().tzinfo or UTC


def _localtime_name() -> str:
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return ""
    return target.split("/zoneinfo/", 1)[1] if "/zoneinfo/" in target else ""


def newsroom_zone() -> tzinfo:
    """The zone times are shown (and typed) in: the admin's choice (Admin → Newsroom), else
    NEWSROOM_TIMEZONE, else the server's (investigations/newsroom.py decides)."""
    if not has_app_context():
        return _zone("")
    from .newsroom import current_newsroom  # the settings model imports this package's models

    return _zone(current_newsroom().timezone)


def to_local(value: datetime) -> datetime:
    """A stored (naive UTC) time in the newsroom's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(newsroom_zone())


def from_local(value: datetime | None) -> datetime | None:
    """A time typed in the newsroom's zone (a form's naive datetime), as stored: naive UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=newsroom_zone())
    return value.astimezone(UTC).replace(tzinfo=None)


def local_today() -> date:
    return datetime.now(newsroom_zone()).date()


def format_datetime(value: datetime | None) -> str:
    if not value:
        return "—"
    local = to_local(value)
    return f"{local:%-d %b %Y, %H:%M} {local.tzname() or ''}".strip()


def format_iso(value: datetime | None, timespec: str = "minutes") -> str:
    """For <time datetime="…"> and exports: the instant in the newsroom's zone, with its offset."""
    return to_local(value).isoformat(timespec=timespec) if value else ""


def tel_number(value: str | None) -> str:
    """A phone number as a tel: link wants it: digits, with a leading + kept ("+1 555 0199" -> "+15550199")."""
    value = (value or "").strip()
    digits = "".join(ch for ch in value if ch.isascii() and ch.isdigit())
    return ("+" + digits) if value.startswith("+") else digits


def format_money(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return "—"
    return f"{amount:,.2f} {currency}".strip()


def format_size(size: int | None) -> str:
    if size is None:
        return "—"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


CUSTODY_LABELS = {
    "evidence.upload": "Added", "evidence.view": "Viewed", "evidence.download": "Downloaded the original",
    "evidence.export": "Exported", "evidence.withdraw": "Withdrawn",
}


def init_app(app):
    app.jinja_env.filters.update(date=format_date, datetime=format_datetime, money=format_money,
                                 filesize=format_size, zip=zip, isotime=format_iso,
                                 tel=tel_number)
    app.jinja_env.globals["CUSTODY_LABELS"] = CUSTODY_LABELS

    def saved_search_news() -> int:
        """New cases matching the user's saved searches, for the navigation (never breaks a page)."""
        from .search.saved import saved_search_news

        return sum(count for _, count in saved_search_news(current_user) or [])

    app.jinja_env.globals["saved_search_news"] = saved_search_news

    def my_work_news() -> int:
        """Cases newly assigned to the user and not opened yet, for the navigation."""
        from .cases.queries import unseen_assignments_count

        try:
            return unseen_assignments_count(current_user)
        except Exception:
            app.logger.warning("New assignments count unavailable", exc_info=True)
            return 0

    app.jinja_env.globals["my_work_news"] = my_work_news

    @app.context_processor
    def globals_for_templates():
        return {
            "Status": Status,
            "STATUS_LABELS": STATUS_LABELS,
            "CATEGORIES": CATEGORIES,
            "today": local_today(),
            "current_user": current_user,
        }
