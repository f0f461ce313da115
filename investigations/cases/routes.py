
from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from ..businesses.services import find_business
from ..evidence.forms import UploadForm
from ..extensions import db
from ..forms import choices, page_number
from ..models import Business, Case, User
from ..models.cases import NOTE_KINDS, Status, TimelineKind
from ..outcomes.moves import (
    BULK_RESOLVE_REFUSED,
    OutcomeInvalid,
    move_outcome_form,
    move_problem,
    outcome_page_context,
    record_move_outcome,
)
from ..permissions import allowed_moves, can_assign, can_edit_case, can_move_case, editor_only, signed_in
from ..search import get_backend
from ..search.saved import saved_search_news
from ..template_helpers import from_local, local_today
from . import bp
from .exports import ExportNotAllowed, as_csv, as_json, export_rows
from .forms import (
    AssignForm,
    BulkForm,
    CaseFilterForm,
    CaseForm,
    FollowUpDoneForm,
    MergeForm,
    NoteCorrectionForm,
    NoteForm,
    ResponseForm,
    StatusForm,
)
from .notify import notify_assignment
from .queries import SORT_LABELS, assignee_filter_users, business_suggestions, case_list_query, get_visible_case
from .services import (
    CaseDetails,
    MergeError,
    MoveNotPermitted,
    NoteError,
    WorkflowError,
    add_note,
    assign_case,
    assignable_users,
    bulk_assign,
    bulk_change_status,
    can_correct_note,
    change_status,
    closing_comment,
    consent_warning,
    correct_note,
    create_case,
    find_note,
    finish_follow_up,
    log_complainant_view,
    mark_seen_by_assignee,
    merge_cases,
    record_business_response,
    update_case,
)
from .workflow import ACTION_LABELS, is_allowed_move


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
    # The list's arguments, for the pager, the sort links and the export (the status always: the
    # list shows open cases unless asked otherwise, an export without one has every status).
    args = {name: str(field.data) for name, field in form._fields.items()
            if name != "overdue" and field.data and (request.args.get(name) or name == "status")}
    if form.overdue.data:
        args["overdue"] = "y"
    bulk_form = None
    if current_user.is_editor:
        bulk_form = BulkForm(prefix="bulk")
        bulk_form.assignee.choices = assignee_choices()
    return render_template("cases/index.html", form=form, page=page, args=args, saved_news=saved_search_news(current_user) or [],
                           bulk_form=bulk_form, sort_labels=SORT_LABELS, narrowed=_narrowed(args),
                           business_names=business_suggestions(current_user))


def _narrowed(args: dict) -> bool:
    """Whether the list is narrowed beyond its default (open cases, newest first)."""
    return any(name not in ("sort", "dir") and not (name == "status" and value == "open")
               for name, value in args.items())


def _list_filters() -> tuple[CaseFilterForm, dict]:
    form = CaseFilterForm(request.args)
    if current_user.is_editor:
        form.assignee.choices += choices([("me", "Me"), ("none", "Nobody")] + [
            (u.id, f"{u.display_name} (deactivated)" if gone else u.display_name)
            for u, gone in assignee_filter_users()])
    return form, {name: field.data for name, field in form._fields.items()}


@bp.route("/cases/bulk", methods=["POST"])
@editor_only
def bulk():
    """Assign or move the cases ticked in the list; each case's change is audited on its own."""
    form = BulkForm(prefix="bulk")
    form.assignee.choices = assignee_choices()
    back = _list_address(request.form.get("back", ""))
    references = list(dict.fromkeys(r.strip().upper() for r in request.form.getlist("case") if r.strip()))[:200]
    if not form.validate_on_submit():
        flash("Choose what to do with the ticked cases.", "error")
        return redirect(back)
    if not references:
        flash("Tick the cases to change first.", "error")
        return redirect(back)
    cases = list(db.session.scalars(db.select(Case).where(Case.reference.in_(references))))
    missing = sorted(set(references) - {c.reference for c in cases})
    if form.action.data == "assign":
        assignee = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
        result = bulk_assign(cases, assignee, current_user)
        done = f"assigned to {assignee.display_name}" if assignee else "unassigned"
    else:
        target = Status(form.status.data) if form.status.data else None
        if target is None:
            flash("Choose the status to move the ticked cases to.", "error")
            return redirect(back)
        if target == Status.CLOSED and not form.reason.data:
            flash("Say why the ticked cases are closed: the reason stays on each case's timeline.", "error")
            return redirect(back)
        if target == Status.RESOLVED:
            flash(BULK_RESOLVE_REFUSED, "error")
            return redirect(back)
        result = bulk_change_status(cases, target, current_user, closing_comment(target, form.reason.data))
        done = f"moved to {target.label.lower()}"
    db.session.commit()
    if form.action.data == "assign" and result.changed:
        notify_assignment(assignee, [c for c in cases if c.reference in result.changed], current_user)
    if result.changed:
        flash(f"{len(result.changed)} case{'' if len(result.changed) == 1 else 's'} {done}: "
              f"{', '.join(result.changed)}.", "success")
    if result.unchanged:
        flash(f"Already so, left as they were: {', '.join(result.unchanged)}.", "info")
    for reference, why in result.refused:
        flash(f"{reference} was not changed: {why}", "error")
    if missing:
        flash(f"No such case: {', '.join(missing)}.", "error")
    return redirect(back)


def _list_address(back: str) -> str:
    """The case list the bulk form came from (its query string only), or the list itself."""
    back = back[:2000]
    if back.startswith("?") and "\\" not in back and "\n" not in back:
        return url_for("cases.index") + back
    return url_for("cases.index")


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
    stamp = local_today().isoformat()
    if fmt == "csv":
        body, mimetype = as_csv(rows, include_complainant), "text/csv"
    else:
        body, mimetype = as_json(rows, filters), "application/json"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="cases-{stamp}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/cases/new", methods=["GET", "POST"])
@signed_in
def new():
    form = CaseForm()
    if request.method == "GET":
        form.currency.data = current_app.config["DEFAULT_CURRENCY"]
        form.business_name.data = request.args.get("business", "")
    if form.validate_on_submit():
        case, business_created = create_case(CaseDetails.from_fields(form.data), current_user)
        db.session.commit()
        flash(f"Case {case.reference} filed.", "success")
        if business_created:
            flash(f"{case.business.name} is a new business in the archive.", "info")
        return redirect(url_for("cases.detail", reference=case.reference))
    return render_template("cases/form.html", form=form, case=None, business_names=_business_names())


@bp.route("/cases/new/business")
@signed_in
def business_check():
    """For the new-case form, before filing: is this business already in the archive? Business
    names are not confidential (every signed-in person sees the business list)."""
    name = " ".join(request.args.get("name", "").split())[:200]
    business = find_business(name) if name else None
    return jsonify(name=name, known=business.name if business else None,
                   new=bool(name) and business is None)


@bp.route("/cases/<reference>")
@signed_in
def detail(reference):
    case = get_visible_case(reference, current_user)
    merged = request.args.get("merged", "")[:20]
    if merged:
        flash(f"{merged} was merged into this case.", "info")
    if mark_seen_by_assignee(case, current_user):
        db.session.commit()
    return _render_detail(case)


def _search_nav() -> dict | None:
    """Back to the results, and the previous and next result, for a case opened from search."""
    from ..search.routes import results_address

    query = request.args.get("search")
    if query is None:
        return None
    try:
        position = max(0, int(request.args.get("pos", "0")))
        total = max(0, int(request.args.get("of", "0")))
    except ValueError:
        return None

    def step(to):
        return url_for("search.step", search=query, pos=to)

    return {"back": results_address(query, position), "position": position + 1, "total": total,
            "previous": step(position - 1) if position > 0 else None,
            "next": step(position + 1) if position + 1 < total else None}


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
                   merge_consent_differs=False, correction_form=None, status_form=None, outcome_forms=None):
    moves = [(target, ACTION_LABELS[target]) for target in allowed_moves(current_user, case)]
    assign_form = None
    if can_assign(current_user):
        assign_form = AssignForm()
        assign_form.assignee.choices = assignee_choices()
        assign_form.assignee.data = str(case.assigned_to_id or "")
    if note_form is None:
        note_form = NoteForm()
        if request.args.get("kind") in {kind.value for kind in NOTE_KINDS}:  # "Log a call" opens the form so
            note_form.kind.data = request.args["kind"]
    return render_template(
        "cases/detail.html", case=case, moves=moves, status_form=status_form or StatusForm(), assign_form=assign_form,
        note_form=note_form, response_form=response_form or ResponseForm(),
        upload_form=UploadForm(), can_edit=can_edit_case(current_user, case), show_complainant=show_complainant,
        merge_form=merge_form or (MergeForm() if current_user.is_editor else None),
        merge_consent_differs=merge_consent_differs, search_nav=_search_nav(),
        correction_form=correction_form or NoteCorrectionForm(), done_form=FollowUpDoneForm(),
        **outcome_page_context(case, outcome_forms),
    )


def _similar_cases(case):
    """Cases that read alike (duplicates, the same trick elsewhere); the page works without them."""
    try:
        return get_backend().similar(case.id, current_user)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException:  # a search engine's panic (tantivy's PanicException is a BaseException) too
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
        changed = update_case(case, CaseDetails.from_fields(form.data))
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
    target = Status(form.status.data)
    # Resolving asks for the outcome, closing for the outcome or a reason, in the same step.
    outcome_form = move_outcome_form(case, target, posted=True)
    problem = move_problem(target, form.comment.data, outcome_form) \
        if can_move_case(current_user, case, target) and is_allowed_move(case.status_enum, target) else None
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
