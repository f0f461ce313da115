"""The dashboard page: figures from stats.py, saved searches from search/saved.py."""
from flask import current_app, render_template
from flask_login import current_user

from ..permissions import signed_in
from ..search.saved import new_matches
from . import bp
from .stats import build_dashboard


def _saved_searches():
    """The user's saved searches with their new matches, or None if the search index cannot say."""
    try:
        return new_matches(current_user)
    except Exception:
        current_app.logger.warning("Saved search counts unavailable", exc_info=True)
        return None


@bp.route("/")
@signed_in
def index():
    return render_template("dashboard/index.html", dashboard=build_dashboard(current_user, current_app.config),
                           saved_searches=_saved_searches())
