"""The dashboard page: figures from stats.py, saved searches from search/saved.py."""
from flask import current_app, render_template
from flask_login import current_user

from ..permissions import signed_in
from ..search.saved import saved_search_news
from ..template_helpers import local_today
from . import bp
from .impact import impact_panel
from .stats import build_dashboard


@bp.route("/")
@signed_in
def index():
    return render_template("dashboard/index.html", dashboard=build_dashboard(current_user, current_app.config),
                           saved_searches=saved_search_news(current_user),
                           impact=impact_panel(current_user, local_today()))
