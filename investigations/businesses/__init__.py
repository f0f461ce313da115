from flask import Blueprint

bp = Blueprint("businesses", __name__)

from . import routes  # noqa: E402,F401
