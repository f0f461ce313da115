"""Imports for editors: a CFPB complaints file in one step; any CSV file in two (upload, then map its columns)."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..evidence.services import display_name
from ..extensions import db
from ..permissions import editor_only
from . import bp, uploads
from .cfpb import import_cfpb
from .forms import CancelForm, UploadForm, mapping_form
from .generic import TARGETS, import_csv, read_preview, suggest_mapping
from .importer import commit_import
from .reader import ImportAborted


def _kept(error: ImportAborted) -> bool:
    """Whether an import that stopped part-way had committed batches before it (its report says which)."""
    report = getattr(error, "report", None)
    return report is not None and report.imported > 0


@bp.route("/")
@editor_only
def index():
    return render_template("imports/index.html")


@bp.route("/cfpb", methods=["GET", "POST"])
@editor_only
def cfpb():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = import_cfpb(upload.stream, current_user, display_name(upload.filename))
        except ImportAborted as error:
            db.session.rollback()
            if _kept(error):  # it broke part-way: the batches before the fault are committed
                return render_template("imports/report.html", report=error.report)
            form.file.errors.append(f"{error} Nothing was imported.")
            return render_template("imports/cfpb.html", form=form), 400
        commit_import(report)
        return render_template("imports/report.html", report=report)
    return render_template("imports/cfpb.html", form=form), 400 if form.errors else 200


@bp.route("/csv", methods=["GET", "POST"])
@editor_only
def csv_upload():
    form = UploadForm()
    if form.validate_on_submit():
        stored = uploads.store_upload(form.file.data.stream, form.file.data.filename, current_user)
        try:
            with stored.path.open("rb") as stream:
                read_preview(stream)
        except ImportAborted as error:
            uploads.remove_upload(stored.token)
            form.file.errors.append(str(error))
        else:
            return redirect(url_for(".csv_map", token=stored.token))
    return render_template("imports/csv_upload.html", form=form), 400 if form.errors else 200


def _already_importing():
    flash("This file is already being imported (the form was sent twice): its cases appear in the case list "
          "when it is done, and the import is recorded in the audit trail.", "info")
    return redirect(url_for(".index"))


def _upload_gone():
    flash("That upload is no longer here: uploads wait a day for their columns to be chosen, and only for the "
          "editor who uploaded them. Upload the file again.", "error")
    return redirect(url_for(".csv_upload"))


@bp.route("/csv/map", methods=["GET", "POST"])
@editor_only
def csv_map():
    """Step 2: which column holds what; then the import and its report. The upload is named by ?token=."""
    stored = uploads.get_upload(request.values.get("token"), current_user)
    if stored is None:
        if uploads.is_being_imported(request.values.get("token"), current_user):
            return _already_importing()
        return _upload_gone()
    try:
        with stored.path.open("rb") as stream:
            header, sample = read_preview(stream)
    except ImportAborted as error:
        uploads.remove_upload(stored.token)
        flash(f"{error} Nothing was imported.", "error")
        return redirect(url_for(".csv_upload"))
    form = mapping_form(header)
    if request.method == "GET":
        form.token.data = stored.token
        for target, index in suggest_mapping(header).items():
            form[target].data = str(index)
    if form.validate_on_submit():
        mapping = {target.key: int(form[target.key].data) for target in TARGETS if form[target.key].data}
        claimed = uploads.claim_upload(stored)
        if claimed is None:
            return _already_importing()
        try:
            with claimed.open("rb") as stream:
                report = import_csv(stream, current_user, stored.name, mapping)
        except ImportAborted as error:
            db.session.rollback()
            uploads.remove_upload(stored.token)
            if _kept(error):
                return render_template("imports/report.html", report=error.report)
            flash(f"{error} Nothing was imported.", "error")
            return redirect(url_for(".csv_upload"))
        commit_import(report)
        uploads.remove_upload(stored.token)
        return render_template("imports/report.html", report=report)
    return render_template("imports/csv_map.html", form=form, upload=stored, header=header, sample=sample,
                           targets=TARGETS, cancel_form=CancelForm(token=stored.token)), 400 if form.errors else 200


@bp.route("/csv/cancel", methods=["POST"])
@editor_only
def csv_cancel():
    form = CancelForm()
    if form.validate_on_submit() and uploads.get_upload(form.token.data, current_user):
        uploads.remove_upload(form.token.data)
        flash("The upload was removed; nothing was imported.", "info")
    return redirect(url_for(".csv_upload"))
