"""Importing complaints from files: the CFPB Consumer Complaint Database and generic CSV."""
from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")


def init_app(app):
    """Remove uploads whose import was never finished (they hold complainants' details) at each
    start, not only when someone next uses the import pages."""
    from .uploads import remove_expired

    with app.app_context():
        remove_expired()

from . import routes  # noqa: E402,F401
