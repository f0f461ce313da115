"""The case page's outcome and story forms, and the impact report (editors)."""
import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..cases.queries import find_visible_case, get_visible_case
from ..extensions import db
from ..models import Story
from ..permissions import can_edit_case, editor_only, signed_in
from .forms import StoryForm
from .moves import OutcomeForm
from .report import ReportError, build_report_form, issue_impact_report
from .services import OutcomeInvalid, add_story, save_outcome, unlink_story

bp = Blueprint("outcomes", __name__)

REFERENCE = re.compile(r"C-\d{4}-\d{5,12}", re.IGNORECASE)


def _editable_case(reference):
    case = get_visible_case(reference, current_user)
    if not can_edit_case(current_user, case):
        abort(403, "Published and closed cases are changed by editors; ask one to reopen it.")
    return case


def _case_page(case, **forms):
    from ..cases.routes import _render_detail  # the case page (cases.routes imports this package)

    return _render_detail(case, outcome_forms=forms)


def _field_errors(form, error: OutcomeInvalid) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]


@bp.route("/cases/<reference>/outcome", methods=["POST"])
@signed_in
def record_outcome(reference):
    """Record or correct the case's outcome (also done when it is resolved or closed)."""
    case = _editable_case(reference)
    form = OutcomeForm(prefix="outcome")
    if form.validate_on_submit():
        if not form.kind.data:
            form.kind.errors = ["Choose what happened."]
        else:
            try:
                changed = save_outcome(case, form.outcome_data(), current_user)
            except OutcomeInvalid as error:
                db.session.rollback()
                _field_errors(form, error)
            else:
                db.session.commit()
                flash("The outcome is recorded." if changed else "The outcome was not changed.",
                      "success" if changed else "info")
                return redirect(url_for("cases.detail", reference=case.reference) + "#outcome")
    return _case_page(case, outcome_form=form), 400


def _other_cases(text: str, case) -> tuple[list, list[str]]:
    """The cases named in "Other cases it covers", and what is wrong with the names."""
    found, problems = [], []
    for reference in dict.fromkeys(part.strip().upper() for part in re.split(r"[,\s;]+", text or "") if part.strip()):
        other = find_visible_case(reference, current_user) if REFERENCE.fullmatch(reference) else None
        if other is None:
            problems.append(f"There is no case {reference} that you may open.")
        elif other.merged_into_id is not None:
            problems.append(f"{reference} was merged into {other.merged_into.reference}: name that case.")
        elif not can_edit_case(current_user, other):
            problems.append(f"{reference} is {other.status_label.lower()}: only an editor can add a story to it.")
        elif other.id != case.id:
            found.append(other)
    return found, problems


@bp.route("/cases/<reference>/stories", methods=["POST"])
@signed_in
def add_story_view(reference):
    """Link a published story to this case (and to the other cases it covers)."""
    case = _editable_case(reference)
    form = StoryForm(prefix="story")
    if form.validate_on_submit():
        others, problems = _other_cases(form.also_about.data, case)
        if problems:
            form.also_about.errors = problems
        else:
            try:
                story, linked = add_story([case, *others], form.story_data(), current_user)
            except OutcomeInvalid as error:
                db.session.rollback()
                _field_errors(form, error)
            else:
                db.session.commit()
                if linked:
                    flash(f"Story linked to {', '.join(c.reference for c in linked)}.", "success")
                else:
                    flash("That story was already linked to this case.", "info")
                return redirect(url_for("cases.detail", reference=case.reference) + "#stories")
    return _case_page(case, story_form=form), 400


@bp.route("/cases/<reference>/stories/<int:story_id>/unlink", methods=["POST"])
@signed_in
def unlink_story_view(reference, story_id):
    case = _editable_case(reference)
    story = db.session.get(Story, story_id)
    if story is None or case not in story.cases:
        abort(404)
    if request.form.get("confirm") != "y":
        abort(400, "Confirm taking the story off the case.")
    unlink_story(story, case, current_user)
    db.session.commit()
    flash("The story is no longer linked to this case.", "success")
    return redirect(url_for("cases.detail", reference=case.reference) + "#stories")


# --- The impact report --------------------------------------------------------------------------


@bp.route("/impact/", methods=["GET", "POST"])
@editor_only
def impact():
    """Choose the period and the cases to feature; the PDF downloads."""
    form = build_report_form()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                pdf, name = issue_impact_report(form, current_user)
            except ReportError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                db.session.commit()
                response = Response(pdf, mimetype="application/pdf")
                response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
                response.headers["Cache-Control"] = "no-store"
                return response
        return render_template("outcomes/impact.html", form=form, preview=form.preview()), 400
    return render_template("outcomes/impact.html", form=form, preview=form.preview())
