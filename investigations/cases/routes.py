from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user

from ..evidence.forms import UploadForm
from ..extensions import db
from ..forms import choices, page_number
from ..models import Business, Case, User
from ..models.cases import Status, TimelineKind
from ..permissions import can_assign, can_edit_case, can_move_case, editor_only, signed_in
from ..search import get_backend
from ..search.saved import new_matches
from . import bp
from .exports import ExportNotAllowed, as_csv, as_json, export_rows
from .forms import AssignForm, CaseFilterForm, CaseForm, MergeForm, NoteForm, ResponseForm, StatusForm
from .queries import case_list_query, get_visible_case
from .services import (
    MergeError,
    MoveNotPermitted,
    WorkflowError,
    add_note,
    assign_case,
    assignable_users,
    change_status,
    consent_warning,
    create_case,
    log_complainant_view,
    merge_cases,
    record_business_response,
    update_case,
)
from .workflow import ACTION_LABELS, TRANSITIONS


def assignee_choices():
    return choices([("", "Nobody")] + [(u.id, u.display_name) for u in assignable_users()])


def require_editable(case) -> None:
    if not can_edit_case(current_user, case):
        abort(403, "Published and closed cases are changed by editors; ask one to reopen it.")


def _business_names() -> list[str]:
    return list(db.session.scalars(db.select(Business.name).order_by(Business.name)))


@bp.route("/cases/")
@signed_in
def index():
    form, filters = _list_filters()
    page = db.paginate(case_list_query(current_user, filters), page=page_number(request.args.get("page")),
                       per_page=current_app.config["CASES_PER_PAGE"], error_out=False)
    args = {name: request.args[name] for name in form._fields if request.args.get(name)}  # for the pager
    return render_template("cases/index.html", form=form, page=page, args=args, saved_news=_saved_news())


def _list_filters() -> tuple[CaseFilterForm, dict]:
    form = CaseFilterForm(request.args)
    if current_user.is_editor:
        form.assignee.choices += choices([("me", "Me"), ("none", "Nobody")] + [
            (u.id, u.display_name) for u in assignable_users()])
    return form, {name: field.data for name, field in form._fields.items()}


@bp.route("/cases/export.<any(csv, json):fmt>")
@signed_in
def export(fmt):
    """The filtered list as a file; complainant details only for editors who ask (audited)."""
    _, filters = _list_filters()
    include_complainant = request.args.get("complainant") == "1"
    try:
        rows = export_rows(current_user, filters, include_complainant)
    except ExportNotAllowed as error:
        abort(403, str(error))
    stamp = date.today().isoformat()
    if fmt == "csv":
        body, mimetype = as_csv(rows, include_complainant), "text/csv"
    else:
        body, mimetype = as_json(rows, filters), "application/json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="cases-{stamp}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _saved_news():
    try:
        return new_matches(current_user)
    except Exception:
        current_app.logger.warning("Saved search counts unavailable", exc_info=True)
        return []


@bp.route("/cases/new", methods=["GET", "POST"])
@signed_in
def new():
    form = CaseForm()
    if request.method == "GET":
        form.currency.data = current_app.config["DEFAULT_CURRENCY"]
        form.business_name.data = request.args.get("business", "")
    if form.validate_on_submit():
        case, business_created = create_case(form.data, current_user)
        db.session.commit()
        flash(f"Case {case.reference} filed.", "success")
        if business_created:
            flash(f"{case.business.name} is a new business in the archive.", "info")
        return redirect(url_for("cases.detail", reference=case.reference))
    return render_template("cases/form.html", form=form, case=None, business_names=_business_names())


@bp.route("/cases/<reference>")
@signed_in
def detail(reference):
    case = get_visible_case(reference, current_user)
    merged = request.args.get("merged", "")[:20]
    if merged:
        flash(f"{merged} was merged into this case.", "info")
    return _render_detail(case)


@bp.route("/cases/<reference>/similar")
@signed_in
def similar(reference):
    """The "Similar cases" panel, which the case page fetches once it has shown (X-Fragment: 1)."""
    case = get_visible_case(reference, current_user)
    return render_template("cases/similar.html", case=case, similar=_similar_cases(case),
                           fragment=request.headers.get("X-Fragment") == "1")


@bp.route("/cases/<reference>/complainant")
@signed_in
def complainant(reference):
    """The case page with the complainant's details shown; every such view is audited."""
    case = get_visible_case(reference, current_user)
    log_complainant_view(case, "case page")
    db.session.commit()
    return _render_detail(case, show_complainant=True)


def _render_detail(case, show_complainant=False, note_form=None, response_form=None, merge_form=None,
                   merge_consent_differs=False):
    moves = [(target, ACTION_LABELS[target]) for target in TRANSITIONS[case.status_enum]
             if can_move_case(current_user, case, target)]
    assign_form = None
    if can_assign(current_user):
        assign_form = AssignForm()
        assign_form.assignee.choices = assignee_choices()
        assign_form.assignee.data = str(case.assigned_to_id or "")
    return render_template(
        "cases/detail.html", case=case, moves=moves, status_form=StatusForm(), assign_form=assign_form,
        note_form=note_form or NoteForm(), response_form=response_form or ResponseForm(),
        upload_form=UploadForm(), can_edit=can_edit_case(current_user, case), show_complainant=show_complainant,
        merge_form=merge_form or (MergeForm() if current_user.is_editor else None),
        merge_consent_differs=merge_consent_differs,
    )


def _similar_cases(case):
    """Cases that read alike (duplicates, the same trick elsewhere); the page works without them."""
    try:
        return get_backend().similar(case.id, current_user)
    except Exception:
        current_app.logger.warning("Similar cases unavailable for %s", case.reference, exc_info=True)
        return []


@bp.route("/cases/<reference>/edit", methods=["GET", "POST"])
@signed_in
def edit(reference):
    case = get_visible_case(reference, current_user)
    require_editable(case)
    form = CaseForm(obj=case)
    if request.method == "GET":
        form.business_name.data = case.business.name
        form.tags.data = ", ".join(case.tag_names)
    if form.validate_on_submit():
        changed = update_case(case, form.data)
        db.session.commit()
        flash("Changes saved." if changed else "Nothing was changed.", "success" if changed else "info")
        return redirect(url_for("cases.detail", reference=case.reference))
    log_complainant_view(case, "edit form")  # the form shows the complainant's details
    db.session.commit()
    return render_template("cases/form.html", form=form, case=case, business_names=_business_names())


@bp.route("/cases/<reference>/status", methods=["POST"])
@signed_in
def move(reference):
    case = get_visible_case(reference, current_user)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        change_status(case, Status(form.status.data), current_user, form.comment.data)
    except WorkflowError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render_detail(case), 403 if isinstance(error, MoveNotPermitted) else 409
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
        add_note(case, TimelineKind(form.kind.data), form.body.data, current_user, form.occurred_at.data,
                 internal=form.internal.data)
        db.session.commit()
        flash("Added to the timeline.", "success")
        return redirect(url_for("cases.detail", reference=case.reference) + "#timeline")
    return _render_detail(case, note_form=form), 400


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
