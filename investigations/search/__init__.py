"""Full-text search of the archive: the backend, index sync and the /search page."""
from flask import Blueprint, current_app

bp = Blueprint("search", __name__)


def get_backend():
    """This app's search backend, created once per process: tantivy by default, Whoosh with
    SEARCH_BACKEND=whoosh, PostgreSQL full-text search with SEARCH_BACKEND=postgres (the database
    must then be PostgreSQL)."""
    backend = current_app.extensions.get("search_backend")
    if backend is None:
        name = current_app.config["SEARCH_BACKEND"]
        if name == "postgres":
            from .postgres_backend import PostgresBackend

            backend = PostgresBackend()
        elif name == "whoosh":
            from .whoosh_backend import WhooshBackend

            backend = WhooshBackend(current_app.config["SEARCH_INDEX_DIR"])
        elif name == "tantivy":
            from .tantivy_backend import TantivyBackend

            backend = TantivyBackend(current_app.config["SEARCH_INDEX_DIR"])
        else:
            raise RuntimeError(f"Unknown SEARCH_BACKEND {name!r}: use tantivy, whoosh or postgres.")
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
