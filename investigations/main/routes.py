from flask import jsonify, redirect, url_for
from sqlalchemy import text

from ..extensions import db
from ..permissions import public
from . import bp


@bp.route("/")
@public
def index():
    return redirect(url_for("cases.index"))


@bp.route("/healthz")
@public
def health():
    """For load balancers and `make serve` checks: the app answers and reaches its database."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
