"""Background jobs (Huey), their schedules, e-mail alerts, the admin page of jobs and each
account's choice of e-mails. See queue.py for how no job is lost."""
from flask import Blueprint

bp = Blueprint("jobs", __name__)


def init_app(app):
    from . import queue, tasks  # noqa: F401  (tasks registers the job handlers and schedules)

    queue.init_app(app)
    app.register_blueprint(bp)


from . import routes  # noqa: E402,F401
