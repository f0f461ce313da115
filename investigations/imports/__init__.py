"""Importing complaints from files: the CFPB Consumer Complaint Database and generic CSV."""
from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")


from . import routes  # noqa: E402,F401
