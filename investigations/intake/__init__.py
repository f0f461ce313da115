"""Public intake: the complaint form at /report, its status page, and the editors' triage queue."""
from flask import Blueprint, request

bp = Blueprint("intake", __name__)

# Requests of the public side that may carry files: their body is capped before anything reads it.
UPLOAD_ENDPOINTS = {"intake.report", "intake.add"}
TEXT_ALLOWANCE = 2**20  # room for the form's text beside the files


def _cap_public_uploads():
    if request.endpoint in UPLOAD_ENDPOINTS:
        from flask import current_app

        request.max_content_length = current_app.config["INTAKE_MAX_TOTAL_MB"] * 2**20 + TEXT_ALLOWANCE


def init_app(app):
    # First of all before-request functions: CSRF protection reads the form (and so the whole body)
    # before any view, so the cap must be set before it runs.
    app.before_request_funcs.setdefault(None, []).insert(0, _cap_public_uploads)

    def triage_waiting() -> int:
        from .triage import waiting_count

        try:
            return waiting_count()
        except Exception:  # the navigation never breaks a page
            app.logger.exception("Could not count the triage queue")
            return 0

    app.jinja_env.globals["triage_waiting"] = triage_waiting


from . import routes, triage_routes  # noqa: E402,F401
