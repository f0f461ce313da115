import tempfile

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import audit
from ..cases.queries import get_visible_case
from ..errors import wants_json
from ..extensions import db
from ..permissions import can_edit_case, editor_only, signed_in
from ..storage import TooLarge
from . import bp
from .forms import UploadForm, WithdrawForm
from .services import (
    Upload,
    custody_log,
    download_name,
    get_visible_evidence,
    make_image_copies,
    store,
    store_uploads,
    withdraw,
    write_case_zip,
)

SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'",
                "Cache-Control": "private, no-store"}


def _uploads_from_request() -> list[Upload]:
    """Files with their own caption and source (caption-N, source-N), or the shared ones."""
    shared_caption, shared_source = request.form.get("caption", ""), request.form.get("source", "")
    uploads = []
    for index, file in enumerate(request.files.getlist("files")):
        if not file or not file.filename:
            continue
        uploads.append(Upload(file.stream, file.filename,
                              request.form.get(f"caption-{index}") or shared_caption,
                              request.form.get(f"source-{index}") or shared_source))
    return uploads


@bp.route("/cases/<reference>/evidence", methods=["POST"])
@signed_in
def upload(reference):
    case = get_visible_case(reference, current_user)
    if not can_edit_case(current_user, case):
        abort(403, "Published and closed cases are changed by editors; ask one to reopen it.")
    form = UploadForm()
    if not form.validate_on_submit():
        abort(400)
    uploads = _uploads_from_request()
    if not uploads:
        flash("Choose one or more files to upload.", "error")
        return redirect(url_for("cases.detail", reference=case.reference) + "#evidence")
    try:
        result = store_uploads(case, uploads, current_user)
    except TooLarge:
        abort(413)
    if result.added:
        flash(f"{len(result.added)} file{'s' if len(result.added) != 1 else ''} added to {case.reference}.", "success")
    for name, reason in result.refused:
        flash(f"“{name}” was not added: {reason}", "error")
    for name in result.repeats:
        flash(f"“{name}” is identical (same SHA-256) to a file already on this case.", "info")
    case_url = url_for("cases.detail", reference=case.reference)
    if wants_json():  # the page's upload script, which shows progress, then follows `redirect`
        return jsonify(added=[{"id": e.id, "name": e.original_name, "sha256": e.sha256} for e in result.added],
                       refused=[{"name": name, "reason": reason} for name, reason in result.refused],
                       redirect=case_url)
    return redirect(case_url)


@bp.route("/evidence/<int:evidence_id>")
@signed_in
def detail(evidence_id):
    evidence = get_visible_evidence(evidence_id, current_user)
    audit.record("evidence.view", evidence, via="page")
    db.session.commit()
    return render_template("evidence/detail.html", evidence=evidence, log=custody_log(evidence),
                           withdraw_form=WithdrawForm())


@bp.route("/evidence/<int:evidence_id>/download")
@signed_in
def download(evidence_id):
    evidence = get_visible_evidence(evidence_id, current_user)
    path = store().path_for(evidence.sha256)
    if not path.is_file():
        abort(404, "The stored file is missing. An admin should run `flask evidence verify`.")
    audit.record("evidence.download", evidence)
    db.session.commit()
    response = send_file(path, mimetype="application/octet-stream", as_attachment=True,
                         download_name=download_name(evidence), max_age=0)
    response.headers.update(SAFE_HEADERS)
    return response


@bp.route("/evidence/<int:evidence_id>/image/<any(thumb, print):variant>")
@signed_in
def image(evidence_id, variant):
    """A JPEG made by the app from a photo: the list's thumbnail, or the page's preview (audited)."""
    evidence = get_visible_evidence(evidence_id, current_user)
    path = store().derived_path(evidence.sha256, variant)
    if not evidence.has_thumbnail or (not path.is_file() and not make_image_copies(evidence.sha256)):
        abort(404)
    if variant == "print":
        audit.record("evidence.view", evidence, via="preview")
        db.session.commit()
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers.update(SAFE_HEADERS)
    return response


@bp.route("/evidence/<int:evidence_id>/withdraw", methods=["POST"])
@editor_only
def withdraw_view(evidence_id):
    evidence = get_visible_evidence(evidence_id, current_user)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            withdraw(evidence, form.reason.data, current_user)
        except ValueError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("The file is withdrawn. It stays in the record with its custody log.", "success")
        return redirect(url_for("evidence.detail", evidence_id=evidence.id))
    return render_template("evidence/detail.html", evidence=evidence, log=custody_log(evidence),
                           withdraw_form=form), 400


@bp.route("/cases/<reference>/evidence.zip")
@signed_in
def download_all(reference):
    case = get_visible_case(reference, current_user)
    if not case.evidence:
        flash("This case has no evidence to download yet.", "info")
        return redirect(url_for("cases.detail", reference=case.reference))
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 2**20, dir=current_app.config["EVIDENCE_DIR"])
    write_case_zip(case, case.evidence, spool, current_user)
    db.session.commit()
    spool.seek(0)
    response = send_file(spool, mimetype="application/zip", as_attachment=True,
                         download_name=f"{case.reference}-evidence.zip", max_age=0)
    response.headers.update(SAFE_HEADERS)
    return response
