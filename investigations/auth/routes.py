import time
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from .. import audit
from ..extensions import db, limiter
from ..permissions import public, signed_in
from . import bp, lockout, sessions, totp
from .accounts import (
    AccountError,
    authenticate,
    change_password,
    check_sign_in_code,
    confirm_two_factor,
    disable_two_factor,
    pending_user,
    start_two_factor,
    two_factor_required,
)
from .forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmTwoFactorForm,
    DisableTwoFactorForm,
    EndOtherSessionsForm,
    LoginForm,
    StartTwoFactorForm,
)
from .qr import qr_svg

BAD_CREDENTIALS = "That e-mail and password do not match an active account."
# Between the password and the code: who, for how long. The session cookie is signed, so it
# cannot be forged; it holds no secret, and the password step alone never signs anyone in.
PENDING_KEY = "pending_sign_in"
PENDING_SECONDS = 300


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    """Only follow ?next= to a path on this site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return url_for("main.index")  # reporters start on My work, editors on the dashboard


def _finish_sign_in(user, remember: bool, next_target: str | None):
    session.clear()  # a fresh session: nothing put in it before sign-in is carried into it
    sessions.sign_in(user, remember=remember)
    db.session.commit()
    if user.must_change_password:
        flash("Welcome. Please choose your own password before you go on.", "info")
        return redirect(url_for("auth.change_password"))
    return redirect(_safe_next(next_target))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = authenticate(form.email.data, form.password.data)
        db.session.commit()
        if attempt.locked:
            flash(lockout.locked_message(), "error")
        elif attempt.user is None:
            flash(BAD_CREDENTIALS, "error")
        elif attempt.needs_code:
            session.clear()
            session[PENDING_KEY] = {"user": attempt.user.id, "version": attempt.user.session_version,
                                    "remember": bool(form.remember.data), "at": int(time.time()),
                                    "next": _safe_next(request.args.get("next"))}
            return redirect(url_for("auth.login_code"))
        else:
            return _finish_sign_in(attempt.user, form.remember.data, request.args.get("next"))
    return render_template("auth/login.html", form=form)


def _pending_sign_in():
    """(pending details, user) of a sign-in whose password was right and whose code is awaited."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int):
        return None, None
    if not 0 <= time.time() - pending["at"] <= PENDING_SECONDS:
        return None, None
    user = pending_user(int(pending.get("user", 0)), int(pending.get("version", -1)))
    return (pending, user) if user is not None else (None, None)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login_code():
    """The second step of signing in, for accounts with two-factor sign-in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    pending, user = _pending_sign_in()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash("Your sign-in has timed out, or was not started. Enter your e-mail and password again.", "info")
        return render_template("auth/login.html", form=LoginForm(formdata=None))
    form = CodeForm()
    if form.validate_on_submit():
        attempt = check_sign_in_code(user, form.code.data)
        db.session.commit()
        if attempt.signed_in:
            return _finish_sign_in(user, pending.get("remember", False), pending.get("next"))
        if attempt.locked:
            session.pop(PENDING_KEY, None)
            flash(lockout.locked_message(), "error")
            return redirect(url_for("auth.login"))
        form.code.errors.append("That code is not right. Enter the code your app shows now.")
    return render_template("auth/login_code.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    audit.record("auth.logout", current_user._get_current_object())
    sessions.end_current_session()  # a copy of this session's cookies stops working too
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
        user = current_user._get_current_object()
        try:
            revoked = change_password(user, form.current_password.data, form.new_password.data)
        except AccountError as error:
            db.session.commit()  # keeps the count of wrong passwords, and its audit event
            form.current_password.errors.append(str(error))
        else:
            sessions.renew(user)  # every session ended: this browser goes on with a new one
            db.session.commit()
            flash("Your password has been changed. Other sessions of yours are signed out."
                  + _tokens_revoked(revoked), "success")
            return redirect(url_for("main.index"))
    return _password_page(form)


def _password_page(form):
    user = current_user._get_current_object()
    return render_template("auth/change_password.html", form=form,
                           sessions=[] if user.must_change_password else sessions.active_sessions(user),
                           current_session_id=sessions.current_session_id(), end_form=EndOtherSessionsForm())


def _tokens_revoked(count: int) -> str:
    if not count:
        return ""
    tokens = "API token was" if count == 1 else f"{count} API tokens were"
    return f" Your {tokens} revoked: create new ones under API tokens for the programs that need them."


@bp.route("/account/sessions/end-others", methods=["POST"])
@signed_in
def end_other_sessions():
    """Sign out every other browser and device of this account (this one stays signed in)."""
    if EndOtherSessionsForm().validate_on_submit():
        ended = sessions.end_other_sessions(current_user._get_current_object())
        db.session.commit()
        flash(f"Signed out {ended} other session{'s' if ended != 1 else ''}." if ended
              else "You had no other sessions.", "success")
    return redirect(url_for("auth.change_password"))


# --- Two-factor sign-in ----------------------------------------------------------------------


def _two_factor_page(confirm_form=None, disable_form=None):
    user = current_user._get_current_object()
    setup = None
    if user.totp_secret and not user.has_two_factor:
        uri = totp.provisioning_uri(user.totp_secret, user.email)
        setup = {"secret": totp.grouped(user.totp_secret), "uri": uri, "qr": qr_svg(uri)}
    return render_template("auth/two_factor.html", user=user, setup=setup, required=two_factor_required(user),
                           start_form=StartTwoFactorForm(), confirm_form=confirm_form or ConfirmTwoFactorForm(),
                           disable_form=disable_form or DisableTwoFactorForm())


@bp.route("/account/two-factor")
@signed_in
def two_factor():
    return _two_factor_page()


@bp.route("/account/two-factor/start", methods=["POST"])
@signed_in
def two_factor_start():
    if StartTwoFactorForm().validate_on_submit():
        try:
            start_two_factor(current_user._get_current_object())
        except AccountError as error:
            flash(str(error), "info")
        else:
            db.session.commit()
    return redirect(url_for("auth.two_factor"))


@bp.route("/account/two-factor/confirm", methods=["POST"])
@signed_in
def two_factor_confirm():
    form = ConfirmTwoFactorForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            revoked = confirm_two_factor(user, form.code.data)
        except AccountError as error:
            db.session.commit()  # keeps the audit event of the wrong code
            form.code.errors.append(str(error))
        else:
            sessions.renew(user)  # every session ended: this browser goes on with a new one
            db.session.commit()
            flash("Two-factor sign-in is on: from now on, signing in asks for a code from your app. "
                  "Other sessions of yours are signed out." + _tokens_revoked(revoked), "success")
            return redirect(url_for("auth.two_factor"))
    return _two_factor_page(confirm_form=form)


@bp.route("/account/two-factor/disable", methods=["POST"])
@signed_in
def two_factor_disable():
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        try:
            revoked = disable_two_factor(current_user._get_current_object(), form.password.data, form.code.data)
        except AccountError as error:
            db.session.commit()  # keeps the count of failures, and their audit events
            form.code.errors.append(str(error))
        else:
            db.session.commit()
            flash("Two-factor sign-in is off. You can remove “Investigations” from your app."
                  + _tokens_revoked(revoked), "success")
            return redirect(url_for("auth.two_factor"))
    return _two_factor_page(disable_form=form)


# --- Gates before every request ----------------------------------------------------------------

PASSWORD_CHANGE_OPEN = {"auth.change_password", "auth.logout", "static"}


@bp.before_app_request
def keep_session_alive():
    """Load the signed-in user first (Flask-Login's loader checks the server-side session), then
    move the session's last_seen_at on when it is due: before any view has changed anything."""
    if request.endpoint == "static" or request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated:
        sessions.note_activity()
    return None
TWO_FACTOR_OPEN = PASSWORD_CHANGE_OPEN | {"auth.two_factor", "auth.two_factor_start", "auth.two_factor_confirm"}


@bp.before_app_request
def require_password_change():
    """Until a one-time password is replaced, only the change form and sign-out are open."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in PASSWORD_CHANGE_OPEN):
        return redirect(url_for("auth.change_password"))
    return None


@bp.before_app_request
def require_two_factor_for_admins():
    """With REQUIRE_TOTP_FOR_ADMINS, an admin without two-factor sign-in sets it up before anything else.
    (The API answers bearer tokens only, and never reads the session: it is not gated here.)"""
    if (request.endpoint in TWO_FACTOR_OPEN or request.path.startswith("/api/")
            or not current_user.is_authenticated or current_user.has_two_factor
            or not two_factor_required(current_user)):
        return None
    flash("Admins of this newsroom sign in with a code as well as a password: set up two-factor sign-in "
          "before you go on.", "info")
    return redirect(url_for("auth.two_factor"))
