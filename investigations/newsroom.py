"""The newsroom's own settings: its name, paper size and time zone. One source of truth.

An admin sets them on Admin → Newsroom (stored in the one row of newsroom_settings). A value the
admin has not set falls back to the server's configuration: NEWSROOM_NAME, NEWSROOM_TIMEZONE (empty:
the server's own zone), and A4 paper. Everything that shows the name, lays out a page or shows a
time asks `current_newsroom()`.

Reading is cached per process for a few seconds (every time shown on a page asks for the zone), so a
change made in one worker reaches the others within CACHE_SECONDS; the worker that saved it sees it
at once.
"""
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app
from sqlalchemy import select

from . import audit
from .extensions import db
from .models.settings import PAPER_SIZES, NewsroomSettings

DEFAULT_NAME = "The newsroom"
CACHE_SECONDS = 10
SETTINGS_ID = 1
# CSS page sizes WeasyPrint understands, by the stored key.
CSS_PAGE_SIZES = {"A4": "A4", "letter": "letter"}

_cache: dict[int, tuple[float, "Newsroom"]] = {}


@dataclass(frozen=True)
class Newsroom:
    name: str  # as printed: the stored name, NEWSROOM_NAME, or "The newsroom"
    named: bool  # an admin (or NEWSROOM_NAME) gave the newsroom its name
    paper_size: str  # a key of PAPER_SIZES
    timezone: str  # an IANA zone name; "" for the server's own zone
    timezone_from_settings: bool  # chosen by an admin (else NEWSROOM_TIMEZONE or the server's)

    @property
    def css_page_size(self) -> str:
        return CSS_PAGE_SIZES.get(self.paper_size, "A4")

    @property
    def paper_label(self) -> str:
        return PAPER_SIZES.get(self.paper_size, self.paper_size)


def _stored() -> NewsroomSettings | None:
    # Read through a connection of its own: the caller's session may be mid-transaction, and a
    # query here must neither flush it nor, on failure, spoil it.
    with db.engine.connect() as connection:
        row = connection.execute(select(NewsroomSettings.__table__).where(NewsroomSettings.id == SETTINGS_ID)).first()
    return NewsroomSettings(**row._mapping) if row is not None else None


def _build(stored: NewsroomSettings | None) -> Newsroom:
    config = current_app.config
    configured_name = (config.get("NEWSROOM_NAME") or "").strip()
    name = (stored.name if stored else None) or configured_name
    zone = (stored.timezone if stored else None) or ""
    return Newsroom(
        name=name or DEFAULT_NAME, named=bool(name),
        paper_size=(stored.paper_size if stored else None) or "A4",
        timezone=zone or (config.get("NEWSROOM_TIMEZONE") or "").strip(),
        timezone_from_settings=bool(zone))


def current_newsroom() -> Newsroom:
    """The settings in force (needs an app context)."""
    app = current_app._get_current_object()
    cached = _cache.get(id(app))
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        newsroom = _build(_stored())
    except Exception:  # no table yet (a command before `flask db upgrade`), or the database is down
        app.logger.warning("Newsroom settings unavailable; using the configuration", exc_info=True)
        return _build(None)
    _cache[id(app)] = (now + CACHE_SECONDS, newsroom)
    return newsroom


def forget_cached() -> None:
    _cache.pop(id(current_app._get_current_object()), None)


def timezone_problem(name: str) -> str | None:
    """Why `name` is not a time zone this server knows, or None."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"“{name}” is not a time zone this server knows; pick one from the list (e.g. America/New_York)."
    return None


def timezone_choices() -> list[str]:
    return sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/")))


def save_settings(name: str, paper_size: str, timezone: str, actor) -> list[str]:
    """Store the admin's choice; return the names of what changed (audited). The caller commits."""
    if paper_size not in PAPER_SIZES:
        raise ValueError(paper_size)
    problem = timezone_problem(timezone)
    if problem:
        raise ValueError(problem)
    row = db.session.get(NewsroomSettings, SETTINGS_ID)
    if row is None:
        row = NewsroomSettings(id=SETTINGS_ID)
        db.session.add(row)
    wanted = {"name": " ".join(name.split()) or None, "paper_size": paper_size, "timezone": timezone or None}
    changed = [key for key, value in wanted.items() if getattr(row, key) != value]
    for key, value in wanted.items():
        setattr(row, key, value)
    row.updated_by = actor
    if changed:
        audit.record("settings.update", None, actor=actor, **{key: wanted[key] for key in changed})
    db.session.flush()
    forget_cached()
    return changed
