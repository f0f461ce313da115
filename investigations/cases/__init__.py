from flask import Blueprint

bp = Blueprint("cases", __name__)

from . import activity, case_action_views, list_views, notify, routes  # noqa: E402,F401
