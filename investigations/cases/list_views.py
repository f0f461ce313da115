"""The case list: its filters and pages, the bulk actions on the ticked cases, and the export."""
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from ..extensions import db
from ..forms import choices, page_number
from ..models import Case, User
from ..models.cases import Status
from ..outcomes.moves import BULK_RESOLVE_REFUSED
from ..permissions import editor_only, signed_in
from ..search.saved import saved_search_news
from ..template_helpers import local_today
from . import bp
from .exports import ExportNotAllowed, as_csv, as_json, export_rows
from .forms import BulkForm, CaseFilterForm
from .notify import notify_assignment
from .queries import SORT_LABELS, assignee_filter_users, business_suggestions, case_list_query
from .routes import assignee_choices
from .services import bulk_assign, bulk_change_status, closing_comment


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
