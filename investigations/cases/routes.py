"""The case page: filing a case, the page itself (with the complainant's details and the similar
cases panel), and editing a case's details. The list views (list_views.py) and the case page's
forms that change a case (case_action_views.py) share the helpers here; outcomes/routes.py shows
the case page through _render_detail."""
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ..businesses.services import find_business
from ..evidence.forms import UploadForm
from ..extensions import db
from ..forms import choices
from ..models import Business
from ..models.cases import NOTE_KINDS
from ..outcomes.moves import outcome_page_context
from ..permissions import allowed_moves, can_assign, can_edit_case, signed_in
from ..search import get_backend
from . import bp
from .forms import (
    AssignForm,
    CaseForm,
    FollowUpDoneForm,
    MergeForm,
    NoteCorrectionForm,
    NoteForm,
    ResponseForm,
    StatusForm,
)
from .queries import get_visible_case
from .services import (
    CaseDetails,
    assignable_users,
    create_case,
    log_complainant_view,
    mark_seen_by_assignee,
    update_case,
)
from .workflow import ACTION_LABELS


def assignee_choices():
    return choices([("", "Nobody")] + [(u.id, u.display_name) for u in assignable_users()])


def require_editable(case) -> None:
    if not can_edit_case(current_user, case):
        abort(403, "Published and closed cases are changed by editors; ask one to reopen it.")


def _business_names() -> list[str]:
    return list(db.session.scalars(db.select(Business.name).order_by(Business.name)))


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
