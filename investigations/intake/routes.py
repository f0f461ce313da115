"""The public side: no account, no archive. Every route here is @public and reaches only the one
submission named by a receipt code."""
from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for

from ..evidence.services import Upload
from ..extensions import limiter
from ..newsroom import current_newsroom
from ..permissions import public
from . import bp, guards, services
from .files import FileProblem, limits_text
from .forms import AddInformationForm, ComplaintForm, StatusForm

RECEIPT_KEY = "intake_receipt"
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _uploads() -> list[Upload]:
    return [Upload(file.stream, file.filename) for file in request.files.getlist("files") if file and file.filename]


def _page(template: str, http_status: int = 200, **context):
    response = make_response(render_template(template, newsroom=current_newsroom(), limits=limits_text(),
                                             privacy_notice=current_app.config["INTAKE_PRIVACY_NOTICE"], **context),
                             http_status)
    response.headers.update(NO_STORE)
    return response


def _form_page(form: ComplaintForm, refusal: str | None = None, status: int = 200):
    form.started.data = guards.form_started_token()  # the clock starts again with each showing
    form.website.data = ""
    return _page("intake/report.html", status, form=form, refusal=refusal)


def _submission_limit() -> str:
    return current_app.config["INTAKE_RATE_LIMIT"]


def _status_limit() -> str:
    return current_app.config["INTAKE_STATUS_RATE_LIMIT"]


def _too_many_submissions():
    """Over the submission limit: the form again, with what was typed."""
    form = ComplaintForm()
    return _form_page(form, "Your complaint was not sent: a complaint was sent from your address a moment ago, and "
                            "to keep automated programs out we take only one at a time. Please wait a minute, then "
                            "send it again (your answers are still here; choose the files again).", 429)


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(_submission_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 302)
@public
def report():
    if not current_app.config["PUBLIC_INTAKE"]:
        return _page("intake/closed.html")
    form = ComplaintForm()
    if request.method == "GET":
        return _form_page(form)
    refusal = (guards.check_honeypot(form.website.data) or guards.check_fill_time(form.started.data)
               or guards.check_daily_cap())
    if refusal:
        current_app.logger.info("Public complaint refused (%s) from %s", refusal.reason, request.remote_addr)
        return _form_page(form, refusal.message, 400)
    if not form.validate():
        return _form_page(form, "Your complaint was not sent yet: please check the answers marked below.", 400)
    try:
        _, code = services.submit(form.data, _uploads())
    except FileProblem as problem:
        return _form_page(form, str(problem), 400)
    session[RECEIPT_KEY] = code
    return redirect(url_for("intake.receipt"))


@bp.route("/report/receipt")
@public
def receipt():
    """The receipt code, shown once: the page after sending takes it out of the session."""
    return _page("intake/receipt.html", code=session.pop(RECEIPT_KEY, None))


def _status_page(form, submission=None, status_code: int = 200, not_found: bool = False):
    add_form = AddInformationForm(formdata=None, code=form.code.data) if submission is not None else None
    return _page("intake/status.html", status_code, form=form, add_form=add_form, not_found=not_found,
                 status=services.public_status(submission) if submission is not None else None)


@bp.route("/report/status", methods=["GET", "POST"])
@limiter.shared_limit(_status_limit, scope="intake-status", methods=["POST"])
@public
def status():
    form = StatusForm()
    if request.method == "GET" or not form.validate():
        return _status_page(form, status_code=200 if request.method == "GET" else 400)
    submission = services.find_by_code(form.code.data)
    if submission is None:
        return _status_page(form, not_found=True)
    return _status_page(form, submission)


@bp.route("/report/status/add", methods=["POST"])
@limiter.shared_limit(_status_limit, scope="intake-status")
@public
def add():
    form = AddInformationForm()
    submission = services.find_by_code(form.code.data) if form.validate() else None
    lookup = StatusForm(formdata=None, code=form.code.data)
    if submission is None:
        return _status_page(lookup, not_found=True)
    status = services.public_status(submission)
    uploads = _uploads()
    if not status.may_add:
        flash("This complaint is closed, so nothing more can be added to it. To tell us about something new, "
              "send a new complaint.", "error")
        return _status_page(lookup, submission, 409)
    if not form.note.data and not uploads:
        flash("Write something or choose a file to add.", "error")
        return _status_page(lookup, submission, 400)
    try:
        noted, file_count = services.add_information(submission, form.note.data, uploads)
    except FileProblem as problem:
        flash(str(problem), "error")
        return _status_page(lookup, submission, 400)
    parts = (["your note"] if noted else []) + ([f"{file_count} file{'s' if file_count != 1 else ''}"]
                                               if file_count else [])
    flash(f"Thank you: we have added {' and '.join(parts)} to your complaint.", "success")
    return _status_page(lookup, submission)


@bp.errorhandler(413)
def too_large(error):
    message = (f"What you sent is larger than we accept ({current_app.config['INTAKE_MAX_TOTAL_MB']} MB in all). "
               f"Nothing was stored. Go back, choose smaller or fewer files, and send it again.")
    return _page("intake/refused.html", 413, title="Too large", message=message)


@bp.errorhandler(429)
def too_many(error):
    if request.endpoint == "intake.report":
        return _too_many_submissions()
    message = ("You have tried this too many times in a short while. To keep automated programs out, please wait "
               "a minute, then try again.")
    return _page("intake/refused.html", 429, title="Please wait a minute", message=message)
