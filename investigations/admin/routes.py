from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import audit
from ..auth.accounts import AccountError, create_user, reset_password, update_user
from ..extensions import db
from ..forms import page_number
from ..models import AuditEvent, User
from ..permissions import admin_only, require
from . import bp
from .forms import EditUserForm, NewUserForm


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
    if form.validate_on_submit():
        try:
            changed = update_user(user, form.display_name.data, form.role.data, form.active.data, current_user)
        except AccountError as error:
            db.session.rollback()
            form.role.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Saved {user.display_name}." if changed else "Nothing was changed.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@admin_only
def reset_user_password(user_id):
    user = _get_user(user_id)
    password = reset_password(user, current_user)
    db.session.commit()
    return render_template("admin/password_issued.html", user=user, password=password, created=False)


@bp.route("/admin/audit")
@admin_only
def audit_log():
    query = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if request.args.get("object"):
        object_type, _, object_id = request.args["object"].partition(":")
        query = query.where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
    page = db.paginate(query, page=page_number(request.args.get("page")), per_page=50, error_out=False)
    return render_template("admin/audit.html", page=page)


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
