from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from ..businesses.services import complaint_pattern, get_business_by_slug
from ..cases.queries import get_visible_case
from ..extensions import db
from ..models import Dossier
from ..permissions import can_view_case, editor_only, require, signed_in
from . import bp
from .audiences import AUDIENCES, case_content
from .forms import DossierForm, VerifyForm
from .render import DossierError
from .services import (
    dossier_path,
    give_up_if_stale,
    issue_in_background,
    issue_now,
    send_dossier,
    start_dossier,
    verify_copy,
)


@bp.route("/cases/<reference>/dossier", methods=["GET", "POST"])
@signed_in
def case_dossier(reference):
    case = get_visible_case(reference, current_user)
    form = DossierForm()
    if form.validate_on_submit():
        dossier = start_dossier(AUDIENCES[form.audience.data], current_user, case=case,
                                with_originals=form.with_originals.data)
        try:
            issue_now(dossier)
        except DossierError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("cases.detail", reference=case.reference))
        return send_dossier(dossier)
    previews = {key: case_content(case, audience).omitted for key, audience in AUDIENCES.items()}
    return render_template("dossiers/export.html", form=form, subject=case.reference, title=case.title,
                           previews=previews, back=url_for("cases.detail", reference=case.reference))


@bp.route("/businesses/<slug>/dossier", methods=["GET", "POST"])
@editor_only
def business_dossier(slug):
    business = get_business_by_slug(slug)
    form = DossierForm()
    if not business.current_cases:
        flash("There are no cases against this business yet.", "info")
        return redirect(url_for("businesses.detail", slug=business.slug))
    if form.validate_on_submit():
        dossier = start_dossier(AUDIENCES[form.audience.data], current_user, business=business,
                                with_originals=form.with_originals.data)
        db.session.commit()
        issue_in_background(dossier.id)
        return redirect(url_for("dossiers.status", dossier_id=dossier.id))
    previews = {}
    for key, audience in AUDIENCES.items():
        left_out = [f"{c.reference}: {item}" for c in business.current_cases for item in case_content(c, audience).omitted]
        previews[key] = left_out
    return render_template("dossiers/export.html", form=form, subject=business.name,
                           title=f"{len(business.current_cases)} cases", previews=previews,
                           pattern=complaint_pattern(business.current_cases),
                           back=url_for("businesses.detail", slug=business.slug))


def _get_dossier(dossier_id: int) -> Dossier:
    dossier = db.session.get(Dossier, dossier_id)
    require(dossier is not None)
    allowed = current_user.is_editor or (dossier.case is not None and can_view_case(current_user, dossier.case))
    require(allowed)
    return dossier


@bp.route("/dossiers/<int:dossier_id>")
@signed_in
def status(dossier_id):
    dossier = _get_dossier(dossier_id)
    give_up_if_stale(dossier)
    return render_template("dossiers/status.html", dossier=dossier, audience=AUDIENCES[dossier.audience])


@bp.route("/dossiers/<int:dossier_id>/download")
@signed_in
def download(dossier_id):
    dossier = _get_dossier(dossier_id)
    if not dossier.is_ready or not dossier_path(dossier).is_file():
        abort(404, "This dossier's file is not available.")
    return send_dossier(dossier)


@bp.route("/dossiers/verify", methods=["GET", "POST"])
@editor_only
def verify():
    form = VerifyForm()
    result = None
    if form.validate_on_submit():
        limit = current_app.config["MAX_UPLOAD_MB"] * 2**20
        data = form.file.data.read(limit + 1)
        if len(data) > limit:
            abort(413)
        result = verify_copy(data)
    return render_template("dossiers/verify.html", form=form, result=result, audiences=AUDIENCES)
