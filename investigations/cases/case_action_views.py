"""The case page's forms that change a case: its status, its assignee, notes and their corrections,
follow-ups, the business's response, and merging a duplicate into another case."""
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ..extensions import db
from ..models import Case, User
from ..models.cases import Status, TimelineKind
from ..outcomes.moves import OutcomeInvalid, move_outcome_form, move_problem, record_move_outcome
from ..permissions import allowed_moves, editor_only, signed_in
from ..template_helpers import from_local
from . import bp
from .forms import (
    AssignForm,
    FollowUpDoneForm,
    MergeForm,
    NoteCorrectionForm,
    NoteForm,
    ResponseForm,
    StatusForm,
)
from .notify import notify_assignment
from .queries import get_visible_case
from .routes import _render_detail, assignee_choices, require_editable
from .services import (
    MergeError,
    MoveNotPermitted,
    NoteError,
    WorkflowError,
    add_note,
    assign_case,
    can_correct_note,
    change_status,
    closing_comment,
    consent_warning,
    correct_note,
    find_note,
    finish_follow_up,
    merge_cases,
    record_business_response,
)


@bp.route("/cases/<reference>/status", methods=["POST"])
@signed_in
def move(reference):
    case = get_visible_case(reference, current_user)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    target = Status(form.status.data)
    # Resolving asks for the outcome, closing for the outcome or a reason, in the same step.
    outcome_form = move_outcome_form(case, target, posted=True)
    # The same rule as the page's buttons; a move not allowed is refused, with its reason, by change_status.
    problem = move_problem(target, form.comment.data, outcome_form) \
        if target in allowed_moves(current_user, case) else None
    if problem:
        flash(problem, "error")
        return _render_detail(case, status_form=form, outcome_forms={"move_forms": {target.value: outcome_form}}), 400
    try:
        change_status(case, target, current_user, closing_comment(target, form.comment.data))
        record_move_outcome(case, outcome_form, current_user)
    except WorkflowError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render_detail(case), 403 if isinstance(error, MoveNotPermitted) else 409
    except OutcomeInvalid as error:
        db.session.rollback()
        flash(f"Check the outcome: {error}", "error")
        return _render_detail(case, status_form=form, outcome_forms={"move_forms": {target.value: outcome_form}}), 400
    db.session.commit()
    flash(f"{case.reference} is now {case.status_label.lower()}.", "success")
    return redirect(url_for("cases.detail", reference=case.reference))


@bp.route("/cases/<reference>/assign", methods=["POST"])
@editor_only
def assign(reference):
    case = get_visible_case(reference, current_user)
    form = AssignForm()
    form.assignee.choices = assignee_choices()
    if not form.validate_on_submit():
        flash("Choose someone from the list.", "error")
        return redirect(url_for("cases.detail", reference=case.reference))
    assignee = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
    if assign_case(case, assignee, current_user):
        db.session.commit()
        notify_assignment(assignee, [case], current_user)
        flash(f"Assigned to {assignee.display_name}." if assignee else "Case unassigned.", "success")
    else:
        flash("Nothing changed: the case was already assigned that way.", "info")
    return redirect(url_for("cases.detail", reference=case.reference))


@bp.route("/cases/<reference>/notes", methods=["POST"], endpoint="add_note")
@signed_in
def add_note_view(reference):
    case = get_visible_case(reference, current_user)
    require_editable(case)
    form = NoteForm()
    if form.validate_on_submit():
        # The time is typed in the newsroom's zone and stored in UTC.
        add_note(case, TimelineKind(form.kind.data), form.body.data, current_user, from_local(form.occurred_at.data),
                 internal=form.internal.data, follow_up_on=form.follow_up_on.data)
        db.session.commit()
        flash("Added to the timeline." + (f" Follow-up due {form.follow_up_on.data:%-d %b %Y}: it is on My work."
                                          if form.follow_up_on.data else ""), "success")
        return redirect(url_for("cases.detail", reference=case.reference) + "#timeline")
    return _render_detail(case, note_form=form), 400


@bp.route("/cases/<reference>/notes/correct", methods=["POST"])
@signed_in
def correct_note_view(reference):
    """The author corrects a note of theirs; the earlier text stays, shown as edited."""
    case = get_visible_case(reference, current_user)
    require_editable(case)
    form = NoteCorrectionForm()
    if not form.entry_id.data:
        abort(400, "Say which note to correct.")
    entry = find_note(case, form.entry_id.data)
    if entry is None:
        abort(404)  # no such note on this case
    if not can_correct_note(entry, current_user):
        abort(403, "Only the author of a note can correct it.")
    if form.validate_on_submit():
        try:
            changed = correct_note(entry, form.body.data, current_user)
        except NoteError as error:
            abort(403, str(error))
        db.session.commit()
        flash("The note is corrected; its earlier text is kept." if changed else "The note was not changed.",
              "success" if changed else "info")
        return redirect(url_for("cases.detail", reference=case.reference) + f"#entry-{entry.id}")
    return _render_detail(case, correction_form=form), 400


@bp.route("/cases/<reference>/follow-up/done", methods=["POST"])
@signed_in
def follow_up_done(reference):
    """A note's follow-up is done: it leaves My work."""
    case = get_visible_case(reference, current_user)
    form = FollowUpDoneForm()
    entry = find_note(case, form.entry_id.data) if form.validate_on_submit() else None
    if entry is None:
        abort(400 if not form.entry_id.data else 404)
    if finish_follow_up(entry, current_user):
        db.session.commit()
        flash("Follow-up done.", "success")
    if request.form.get("back") == "work":
        return redirect(url_for("main.my_work"))
    return redirect(url_for("cases.detail", reference=case.reference) + f"#entry-{entry.id}")


@bp.route("/cases/<reference>/response", methods=["POST"])
@signed_in
def business_response(reference):
    case = get_visible_case(reference, current_user)
    require_editable(case)
    form = ResponseForm()
    if form.validate_on_submit():
        record_business_response(case, form.response.data, form.received_on.data, current_user)
        db.session.commit()
        flash("The business’s response is recorded.", "success")
        return redirect(url_for("cases.detail", reference=case.reference))
    return _render_detail(case, response_form=form), 400


@bp.route("/cases/<reference>/merge", methods=["POST"])
@editor_only
def merge(reference):
    """Merge this case (a duplicate) into the case named in the form."""
    duplicate = get_visible_case(reference, current_user)
    form = MergeForm()
    if form.validate_on_submit():
        survivor = db.session.scalar(db.select(Case).where(Case.reference == form.survivor.data.upper()))
        if survivor is None:
            form.survivor.errors.append(f"There is no case {form.survivor.data.upper()}.")
        elif survivor.consent_to_publish != duplicate.consent_to_publish and not request.form.get("consent_understood"):
            form.survivor.errors.append(consent_warning(duplicate, survivor))
            return _render_detail(duplicate, merge_form=form, merge_consent_differs=True), 422
        else:
            try:
                merge_cases(duplicate, survivor, current_user)
            except MergeError as error:
                db.session.rollback()
                form.survivor.errors.append(str(error))
            else:
                db.session.commit()
                flash(f"{duplicate.reference} was merged into {survivor.reference}: its timeline, evidence and "
                      f"tags are here now.", "success")
                return redirect(url_for("cases.detail", reference=survivor.reference))
    return _render_detail(duplicate, merge_form=form), 422
