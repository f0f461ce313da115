"""Full-text search of the archive: the backend, index sync and the /search page."""
from flask import Blueprint, current_app

bp = Blueprint("search", __name__)


def get_backend():
    """This app's search backend, created once per process: Whoosh by default, PostgreSQL full-text
    search with SEARCH_BACKEND=postgres (the database must then be PostgreSQL)."""
    backend = current_app.extensions.get("search_backend")
    if backend is None:
        if current_app.config["SEARCH_BACKEND"] == "postgres":
            from .postgres_backend import PostgresBackend

            backend = PostgresBackend()
        else:
            from .whoosh_backend import WhooshBackend

            backend = WhooshBackend(current_app.config["SEARCH_INDEX_DIR"])
        current_app.extensions["search_backend"] = backend
    return backend


def warm_up(app) -> None:
    """Open this process's search index and fill its caches before the first request (called by
    gunicorn.conf.py in each worker), so the first search after a start is as fast as the rest."""
    with app.app_context():
        try:
            get_backend().warm_up()
        except Exception:  # no index yet, say: the first search opens it as usual
            app.logger.warning("Search warm-up skipped", exc_info=True)


def init_app(app):
    from .sync import register_session_events

    register_session_events()


from . import routes  # noqa: E402,F401
