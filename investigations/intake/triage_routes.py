"""The editors' triage queue: thin views over triage.py."""
from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from .. import audit
from ..businesses.services import find_business
from ..cases.services import assignable_users
from ..evidence.routes import SAFE_HEADERS
from ..evidence.services import download_name, store
from ..extensions import db
from ..forms import choices
from ..models import IntakeFile, IntakeSubmission, User
from ..permissions import editor_only
from . import bp, triage
from .forms import AcceptForm, DeclineForm, DuplicateForm
from .services import public_status


def _submission(submission_id: int) -> IntakeSubmission:
    submission = db.session.get(IntakeSubmission, submission_id)
    if submission is None:
        abort(404)
    return submission


def _accept_form(submission: IntakeSubmission, **kwargs) -> AcceptForm:
    form = AcceptForm(**kwargs)
    form.assignee.choices = choices([("", "Nobody yet"), *((str(user.id), user.display_name)
                                                            for user in assignable_users())])
    if not form.title.data:
        form.title.data = submission.summary
    return form


def _detail(submission, accept_form=None, duplicate_form=None, decline_form=None, status=200):
    return render_template(
        "intake/triage_detail.html", submission=submission, public_status=public_status(submission),
        known_business=find_business(submission.business_name),
        accept_form=accept_form or _accept_form(submission, formdata=None),
        duplicate_form=duplicate_form or DuplicateForm(formdata=None),
        decline_form=decline_form or DeclineForm(formdata=None)), status


@bp.route("/triage/")
@editor_only
def triage_queue():
    return render_template("intake/triage.html", waiting=triage.queue(), decided=triage.recently_decided())


@bp.route("/triage/<int:submission_id>")
@editor_only
def submission(submission_id):
    item = _submission(submission_id)
    triage.log_view(item, current_user)
    db.session.commit()
    return _detail(item)


@bp.route("/triage/<int:submission_id>/files/<int:file_id>")
@editor_only
def submission_file(submission_id, file_id):
    item = db.session.get(IntakeFile, file_id)
    if item is None or item.submission_id != submission_id:
        abort(404)
    path = store().path_for(item.sha256)
    if not path.is_file():
        abort(404, "The stored file is missing. An admin should run `flask evidence verify`.")
    audit.record("intake.file_download", item.submission, sha256=item.sha256)
    db.session.commit()
    response = send_file(path, mimetype="application/octet-stream", as_attachment=True,
                         download_name=download_name(item), max_age=0)
    response.headers.update(SAFE_HEADERS)
    return response


def _decided(item, message):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("intake.triage_queue"))


@bp.route("/triage/<int:submission_id>/accept", methods=["POST"])
@editor_only
def accept(submission_id):
    item = _submission(submission_id)
    form = _accept_form(item)
    if not form.validate():
        return _detail(item, accept_form=form, status=400)
    assignee = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
    try:
        case, evidence = triage.accept(item, current_user, form.title.data, form.category.data, assignee)
    except triage.TriageError as error:
        flash(str(error), "error")
        return _detail(item, status=409)
    db.session.commit()
    triage.after_evidence_commit(evidence)
    flash(f"Accepted: {case.reference} is now a case{f' with {len(evidence)} files' if evidence else ''}.", "success")
    return redirect(url_for("cases.detail", reference=case.reference))


@bp.route("/triage/<int:submission_id>/duplicate", methods=["POST"])
@editor_only
def duplicate(submission_id):
    item = _submission(submission_id)
    form = DuplicateForm()
    if not form.validate():
        return _detail(item, duplicate_form=form, status=400)
    try:
        case = triage.mark_duplicate(item, current_user, form.reference.data)
    except triage.TriageError as error:
        form.reference.errors = [str(error)]
        return _detail(item, duplicate_form=form, status=409 if "already" in str(error) else 400)
    return _decided(item, f"{item.reference} is marked as a duplicate of {case.reference}.")


@bp.route("/triage/<int:submission_id>/decline", methods=["POST"])
@editor_only
def decline(submission_id):
    item = _submission(submission_id)
    form = DeclineForm()
    if not form.validate():
        return _detail(item, decline_form=form, status=400)
    try:
        triage.decline(item, current_user, form.reason.data)
    except triage.TriageError as error:
        flash(str(error), "error")
        return _detail(item, status=409)
    return _decided(item, f"{item.reference} is declined.")
