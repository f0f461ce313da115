
from flask import Response, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import audit
from ..auth.accounts import AccountError, create_user, reset_password, update_user
from ..extensions import db
from ..forms import choices, page_number
from ..models import AuditEvent, Case, User
from ..permissions import admin_only, editor_only, require
from ..template_helpers import local_today
from . import audit_view, bp
from .audit_view import COMPLAINANT_VIEW, AuditFilters, action_label, filtered_query, known_actions, present
from .deactivation import notify_moved, open_cases_of, reassign_choices, reassign_open_cases
from .forms import AuditFilterForm, EditUserForm, NewUserForm


@bp.route("/admin/users")
@admin_only
def users():
    accounts = db.session.scalars(select(User).order_by(User.active.desc(), User.display_name)).all()
    return render_template("admin/users.html", users=accounts)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_only
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user, password = create_user(form.email.data, form.display_name.data, form.role.data,
                                         actor=current_user)
        except AccountError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            return render_template("admin/password_issued.html", user=user, password=password, created=True)
    return render_template("admin/user_form.html", form=form, user=None)


def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    require(user is not None)
    return user


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_user(user_id):
    user = _get_user(user_id)
    form = EditUserForm(obj=user)
    form.reassign_to.choices = reassign_choices(user)
    # Deactivating someone with open cases: warn, and ask in the same form who takes them over.
    open_cases = open_cases_of(user) if user.active else []
    if form.validate_on_submit():
        deactivating = user.active and not form.active.data and open_cases
        choice = form.reassign_to.data or ""
        if deactivating and (not choice or choice not in {value for value, _ in form.reassign_to.choices}):
            form.reassign_to.errors = [f"{user.display_name} has {len(open_cases)} open "
                                       f"case{'' if len(open_cases) == 1 else 's'}: choose who takes "
                                       f"{'it' if len(open_cases) == 1 else 'them'} over."]
            return render_template("admin/user_form.html", form=form, user=user, open_cases=open_cases), 400
        try:
            moved, target = reassign_open_cases(user, choice, current_user) if deactivating else ([], None)
            changed = update_user(user, form.display_name.data, form.role.data, form.active.data, current_user)
        except ValueError as error:  # AccountError, or a reassignment to someone who cannot take it
            db.session.rollback()
            (form.role if isinstance(error, AccountError) else form.reassign_to).errors = [str(error)]
        else:
            db.session.commit()
            notify_moved(moved, target, current_user)
            message = f"Saved {user.display_name}." if changed else "Nothing was changed."
            if moved:
                message += (f" {len(moved)} open case{'' if len(moved) == 1 else 's'} reassigned to "
                            f"{target.display_name if target else 'nobody'}.")
            flash(message, "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, open_cases=open_cases)


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@admin_only
def reset_user_password(user_id):
    user = _get_user(user_id)
    password = reset_password(user, current_user)
    db.session.commit()
    return render_template("admin/password_issued.html", user=user, password=password, created=False)


def _audit_filters() -> tuple[AuditFilterForm, AuditFilters, dict]:
    """The filter form from the query string, the filters it gives (a field that does not read,
    such as a date 2026-13-45, is left out and marked), and the arguments for links."""
    form = AuditFilterForm(request.args)
    form.person.choices += choices((user.id, f"{user.display_name} ({user.email})") for user in db.session.scalars(
        select(User).order_by(User.display_name)))
    form.action.choices += choices((action, f"{action_label(action)} ({action})") for action in known_actions())
    form.validate()
    valid = {name: field.data for name, field in form._fields.items() if not field.errors}
    person = valid.get("person")
    filters = AuditFilters(
        person=int(person) if person and str(person).isdigit() else None, case=valid.get("case") or None,
        action=valid.get("action") or None, date_from=valid.get("date_from"), date_to=valid.get("date_to"))
    args = {name: request.args[name] for name in form._fields if request.args.get(name)}
    return form, filters, args


@bp.route("/admin/audit")
@admin_only
def audit_log():
    form, filters, args = _audit_filters()
    if request.args.get("object"):  # older links: ?object=case:C-2026-00042
        object_type, _, object_id = request.args["object"].partition(":")
        if object_type == "case":
            filters.case = object_id
            args["case"] = form.case.data = object_id
    page = db.paginate(filtered_query(filters), page=page_number(request.args.get("page")), per_page=50,
                       error_out=False)
    return render_template("admin/audit.html", page=page, events=present(page.items), form=form, args=args,
                           filtered=any(vars(filters).values()))


@bp.route("/admin/audit/export.csv")
@admin_only
def export_audit():
    """The filtered events as a CSV file (cells defused for spreadsheets). The export is itself audited."""
    _, filters, args = _audit_filters()
    query = filtered_query(filters)
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    audit.record("audit.export", None, events=count, filters=args or "none")
    db.session.commit()
    events = db.session.scalars(query.execution_options(yield_per=500))
    response = Response(stream_with_context(audit_view.as_csv(events)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{local_today().isoformat()}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/audit/cases/<reference>/complainant-views")
@editor_only
def complainant_views(reference):
    """Who has seen this case's complainant details, and when (editors and admins)."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    require(case is not None)
    query = (select(AuditEvent).where(AuditEvent.action == COMPLAINANT_VIEW, AuditEvent.object_type == "case",
                                      AuditEvent.object_id == case.reference)
             .order_by(AuditEvent.seq.desc()))
    page = db.paginate(query, page=page_number(request.args.get("page")), per_page=100, error_out=False)
    people = db.session.execute(
        select(AuditEvent.actor_label, func.count(), func.max(AuditEvent.created_at))
        .where(AuditEvent.action == COMPLAINANT_VIEW, AuditEvent.object_type == "case",
               AuditEvent.object_id == case.reference)
        .group_by(AuditEvent.actor_label).order_by(func.max(AuditEvent.created_at).desc())).all()
    return render_template("admin/complainant_views.html", case=case, page=page, events=present(page.items),
                           people=people)


@bp.route("/admin/audit/verify", methods=["POST"])
@admin_only
def verify_audit():
    report = audit.verify_chain()
    if report.ok:
        flash(f"The audit chain holds: {report.checked} events checked, none altered.", "success")
    else:
        where = f" at event #{report.broken_seq}" if report.broken_seq else ""
        flash(f"The audit chain is broken{where}: {report.problem}.", "error")
        current_app.logger.error("Audit chain broken at %s: %s", report.broken_seq, report.problem)
    return redirect(url_for("admin.audit_log"))
