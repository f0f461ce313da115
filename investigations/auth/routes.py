from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from .. import audit
from ..extensions import db, limiter
from ..permissions import public, signed_in
from . import bp
from .accounts import AccountError, authenticate, change_password
from .forms import ChangePasswordForm, LoginForm


def _safe_next(target: str | None) -> str:
    """Only follow ?next= to a path on this site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("cases.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        db.session.commit()
        if user is None:
            flash("That e-mail and password do not match an active account.", "error")
        else:
            session.clear()  # a fresh session at sign-in
            login_user(user, remember=form.remember.data)
            if user.must_change_password:
                flash("Welcome. Please choose your own password before you go on.", "info")
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    audit.record("auth.logout", current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@signed_in
def change_password_view():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current_password.data, form.new_password.data)
        except AccountError as error:
            form.current_password.errors.append(str(error))
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session carries the new version
            flash("Your password has been changed. Other sessions of yours are signed out.", "success")
            return redirect(url_for("cases.index"))
    return render_template("auth/change_password.html", form=form)


@bp.before_app_request
def require_password_change():
    """Until a one-time password is replaced, only the change form and sign-out are open."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in {"auth.change_password", "auth.logout", "static"}):
        return redirect(url_for("auth.change_password"))
    return None
