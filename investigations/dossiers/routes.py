from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..businesses.services import get_business_by_slug
from ..cases.queries import get_visible_case
from ..extensions import db
from ..forms import page_number
from ..models import Dossier, Evidence
from ..permissions import can_view_dossier, editor_only, require, signed_in
from ..template_helpers import local_today
from . import bp
from .audiences import AUDIENCES, NEWS, Choices, case_content, left_out_once_per_kind, withheld_fields
from .forms import BusinessDossierForm, DossierForm, ReleaseForm, VerifyForm, withheld_word_list
from .issued import business_preview, issued_dossiers_query
from .pattern import dossier_pattern
from .redaction import highlighted
from .releases import release_parts, withdraw_release
from .render import DossierError
from .selection import EVERYTHING, chosen_cases
from .services import (
    dossier_path,
    give_up_if_stale,
    issue_in_background,
    issue_now,
    send_dossier,
    start_dossier,
    verify_copy,
)


def _choices(form: DossierForm) -> Choices:
    return Choices(withheld_word_list(form.withheld_words.data), bool(form.with_photos.data))


def _left_out(cases, choices: Choices) -> dict[str, list[str]]:
    """For each audience, what its dossier of these cases leaves out, said once per kind."""
    return {key: left_out_once_per_kind([case_content(case, audience, choices) for case in cases])
            for key, audience in AUDIENCES.items()}


@bp.route("/cases/<reference>/dossier", methods=["GET", "POST"])
@signed_in
def case_dossier(reference):
    case = get_visible_case(reference, current_user)
    form = DossierForm()
    if form.validate_on_submit() and not form.preview.data:
        dossier = start_dossier(AUDIENCES[form.audience.data], current_user, case=case,
                                with_originals=form.with_originals.data, choices=_choices(form),
                                recipient=form.recipient.data)
        try:
            issue_now(dossier)
        except DossierError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("cases.detail", reference=case.reference))
        return send_dossier(dossier)
    choices = _choices(form) if not form.errors else Choices()
    outside = case_content(case, NEWS, choices)
    releasable = [(number, item) for number, item in enumerate(outside.evidence, start=1)
                  if not item.complainant_case.consent_to_publish]
    return render_template("dossiers/export.html", form=form, subject=case.reference, title=case.title,
                           previews=_left_out([case], choices), withheld=withheld_fields(outside),
                           highlighted=highlighted, releasable=releasable, release_form=ReleaseForm(formdata=None),
                           case=case, back=url_for("cases.detail", reference=case.reference))


@bp.route("/cases/<reference>/dossier/releases/<int:evidence_id>", methods=["POST"])
@editor_only
def release(reference, evidence_id):
    """Let outside dossiers show parts of one file whose complainant did not consent to be named."""
    case = get_visible_case(reference, current_user)
    item = db.session.get(Evidence, evidence_id)
    require(item is not None and item.case_id == case.id)
    form = ReleaseForm()
    parts = [part for part in ("caption", "file_name", "original") if getattr(form, part).data]
    if not form.validate_on_submit() or not parts:
        problems = [error for errors in form.errors.values() for error in errors]
        flash(" ".join(problems) or "Tick at least one part of the file to release.", "error")
    else:
        release_parts(item, parts, form.basis.data, current_user)
        db.session.commit()
        flash("Released for outside dossiers: recorded with your name and the basis you gave.", "success")
    return redirect(url_for("dossiers.case_dossier", reference=case.reference) + "#releases")


@bp.route("/cases/<reference>/dossier/releases/<int:evidence_id>/<part>/withdraw", methods=["POST"])
@editor_only
def withdraw(reference, evidence_id, part):
    case = get_visible_case(reference, current_user)
    item = db.session.get(Evidence, evidence_id)
    require(item is not None and item.case_id == case.id)
    if item.released(part) is None:
        flash("That part of the file is not released: there is nothing to withdraw.", "info")
    else:
        withdraw_release(item, part, current_user)
        db.session.commit()
        flash("The release was withdrawn: outside dossiers withhold that part again.", "success")
    return redirect(url_for("dossiers.case_dossier", reference=case.reference) + "#releases")


@bp.route("/businesses/<slug>/dossier", methods=["GET", "POST"])
@editor_only
def business_dossier(slug):
    business = get_business_by_slug(slug)
    form = BusinessDossierForm()
    if not business.current_cases:
        flash("There are no cases against this business yet.", "info")
        return redirect(url_for("businesses.detail", slug=business.slug))
    valid = form.validate_on_submit()
    selection = form.selection() if valid or not form.is_submitted() else EVERYTHING
    cases = chosen_cases(business, selection)
    if valid and not form.preview.data:
        if not cases:
            flash("No case matches what you chose: widen the dates, statuses or kinds.", "error")
        else:
            dossier = start_dossier(AUDIENCES[form.audience.data], current_user, business=business,
                                    with_originals=form.with_originals.data, choices=_choices(form),
                                    recipient=form.recipient.data, selection=selection)
            db.session.commit()
            issue_in_background(dossier.id)
            return redirect(url_for("dossiers.status", dossier_id=dossier.id))
    choices = _choices(form) if not form.errors else Choices()
    preview = business_preview(cases, selection, choices)
    return render_template("dossiers/export.html", form=form, subject=business.name, business=business,
                           title=f"{len(business.current_cases)} cases in all; {len(cases)} chosen",
                           previews=preview.left_out, withheld_by_case=preview.withheld_by_case,
                           titles_withheld=preview.titles_withheld, in_full=preview.in_full,
                           selection=selection, highlighted=highlighted,
                           pattern=dossier_pattern(cases, local_today()) if cases else None,
                           back=url_for("businesses.detail", slug=business.slug))


def _get_dossier(dossier_id: int) -> Dossier:
    dossier = db.session.get(Dossier, dossier_id)
    require(can_view_dossier(current_user, dossier))
    return dossier


@bp.route("/dossiers/")
@signed_in
def issued():
    """Every dossier the user may see, newest first: who it was for, who issued it and when."""
    page = db.paginate(issued_dossiers_query(current_user), page=page_number(request.args.get("page")),
                       per_page=50, error_out=False)
    return render_template("dossiers/issued.html", page=page, audiences=AUDIENCES)


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
