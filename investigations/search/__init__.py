"""Full-text search of the archive: the backend, index sync and the /search page."""
from flask import Blueprint, current_app

bp = Blueprint("search", __name__)


def get_backend():
    """This app's search backend (Whoosh by default), created once per process."""
    backend = current_app.extensions.get("search_backend")
    if backend is None:
        from .whoosh_backend import WhooshBackend

        backend = current_app.extensions["search_backend"] = WhooshBackend(current_app.config["SEARCH_INDEX_DIR"])
    return backend


def init_app(app):
    from .sync import register_session_events

    register_session_events()


from . import routes  # noqa: E402,F401
