from flask import jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from ..cases.forms import FollowUpDoneForm
from ..cases.queries import my_work as my_work_items
from ..extensions import db
from ..permissions import public, signed_in
from ..template_helpers import local_today
from . import bp


@bp.route("/")
@signed_in
def index():
    """Editors start from the patterns (the dashboard), reporters from their own work."""
    if current_user.is_editor:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("main.my_work"))


@bp.route("/work/")
@signed_in
def my_work():
    """My work: my open cases with their next action and due date, new assignments marked until
    opened, the businesses' reply deadlines and the follow-ups promised in notes."""
    return render_template("work/index.html", work=my_work_items(current_user, local_today()),
                           done_form=FollowUpDoneForm())


@bp.route("/healthz")
@public
def health():
    """For load balancers and `make serve` checks: the app answers and reaches its database."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
