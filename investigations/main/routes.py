from flask import jsonify, redirect, url_for
from flask_login import current_user
from sqlalchemy import text

from ..extensions import db
from ..permissions import public
from . import bp


@bp.route("/")
@public
def index():
    """Editors start from the patterns (the dashboard), reporters from their cases."""
    if current_user.is_authenticated and current_user.is_editor:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("cases.index"))


@bp.route("/healthz")
@public
def health():
    """For load balancers and `make serve` checks: the app answers and reaches its database."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
