from flask import Blueprint

bp = Blueprint("cases", __name__)

from . import activity, notify, routes  # noqa: E402,F401
