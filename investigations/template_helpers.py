"""Jinja filters and globals used across templates."""
from datetime import date, datetime
from decimal import Decimal

from flask_login import current_user

from .models.cases import CATEGORIES, STATUS_LABELS, Status


def format_date(value: date | None) -> str:
    return value.strftime("%-d %b %Y") if value else "—"


def format_datetime(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y, %H:%M UTC") if value else "—"


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
                                 filesize=format_size, zip=zip)
    app.jinja_env.globals["CUSTODY_LABELS"] = CUSTODY_LABELS

    def saved_search_news() -> int:
        """New cases matching the user's saved searches, for the navigation (never breaks a page)."""
        from .search.saved import new_matches

        try:
            return sum(count for _, count in new_matches(current_user))
        except Exception:
            app.logger.warning("Saved search counts unavailable", exc_info=True)
            return 0

    app.jinja_env.globals["saved_search_news"] = saved_search_news

    @app.context_processor
    def globals_for_templates():
        return {
            "Status": Status,
            "STATUS_LABELS": STATUS_LABELS,
            "CATEGORIES": CATEGORIES,
            "today": date.today(),
            "current_user": current_user,
        }
