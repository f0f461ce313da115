"""Saved searches: a query a user keeps, and how many cases filed since they last looked match it."""
import time
from urllib.parse import parse_qsl, urlencode

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .. import audit
from ..extensions import db
from ..models import SavedSearch, User, utcnow
from . import get_backend
from .requests import request_from_args

CACHE_SECONDS = 60


def _cache() -> dict[int, tuple[float, list[tuple[SavedSearch, int]]]]:
    """Per app: user id -> (when counted, counts), so navigation costs a search a minute at most."""
    return current_app.extensions.setdefault("saved_search_counts", {})


def save_search(user: User, name: str, args) -> SavedSearch:
    """Save the search described by `args` (the form: a MultiDict, where a facet may have several
    values, or a plain dict)."""
    items = args.items(multi=True) if isinstance(args, MultiDict) else args.items()
    kept = [(k, v) for k, v in items if k not in ("page", "csrf_token", "name") and v]
    query = next((v for k, v in kept if k == "q"), None)
    saved = SavedSearch(user_id=user.id, name=(name or "").strip()[:200] or query or "Everything",
                        query_string=urlencode(sorted(dict.fromkeys(kept))), last_seen_at=utcnow())
    db.session.add(saved)
    db.session.flush()
    audit.record("search.save", saved, name=saved.name)
    _cache().pop(user.id, None)
    return saved


def user_searches(user: User) -> list[SavedSearch]:
    return list(db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)
                                   .order_by(SavedSearch.name)))


def new_matches(user: User, fresh: bool = False) -> list[tuple[SavedSearch, int]]:
    """Each of the user's saved searches with the number of cases filed since they last looked."""
    cached = _cache().get(user.id)
    if cached and not fresh and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    counts = []
    backend = get_backend()
    for saved in user_searches(user):
        request = request_from_args(MultiDict(parse_qsl(saved.query_string)))
        request.created_after, request.per_page, request.page = saved.last_seen_at, 1, 1
        counts.append((saved, backend.search(request, user).total))
    _cache()[user.id] = (time.monotonic(), counts)
    return counts


def saved_search_news(user: User) -> list[tuple[SavedSearch, int]] | None:
    """new_matches() for pages that show them beside other things: None (logged) when the index
    cannot say, so a search engine that is down never breaks the dashboard or the navigation."""
    try:
        return new_matches(user)
    except Exception:
        current_app.logger.warning("Saved search counts unavailable", exc_info=True)
        return None


def mark_seen(saved: SavedSearch) -> None:
    saved.last_seen_at = utcnow()
    _cache().pop(saved.user_id, None)


def forget(saved: SavedSearch) -> None:
    db.session.delete(saved)
    _cache().pop(saved.user_id, None)
