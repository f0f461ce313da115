"""The account page for API tokens: /account/tokens lists your tokens, makes one (shown once) and
revokes one. (The tokens' rules are in api/tokens.py; this is a page of the web app.)

Making one asks for the account's password, and its current code when two-factor sign-in is on:
a token outlives the session it was made in, so a borrowed or stolen session must not be enough.

Only your own tokens: an admin who wants an account's tokens gone deactivates the account,
which stops all of them.
"""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from ..api.tokens import TokenError, create_token, own_token, revoke_token, tokens_of
from ..extensions import db
from ..forms import StrippedForm
from ..permissions import signed_in
from .accounts import AccountError, WrongCode, confirm_identity

bp = Blueprint("api_tokens", __name__)


class NewTokenForm(StrippedForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)],
                       description="What will use it, e.g. “Newsletter script” or “Rita's laptop”.")
    password = PasswordField("Your password", validators=[InputRequired(), Length(max=1024)])
    # Checked only for accounts with two-factor sign-in (the page shows it only to them).
    code = StringField("Code from your authenticator app", validators=[Length(max=20)],
                       description="Six digits; a new one every 30 seconds.",
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 -]*",
                                  "maxlength": "20"})


class RevokeTokenForm(StrippedForm):
    token_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,9}$")])


def _page(form, new_secret=None, new_token=None, status=200):
    response = render_template("auth/api_tokens.html", tokens=tokens_of(current_user), form=form, new_secret=new_secret,
                               new_token=new_token, token_days=current_app.config["API_TOKEN_DAYS"])
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/account/tokens", methods=["GET", "POST"])
@signed_in
def index():
    form = NewTokenForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            confirm_identity(user, form.password.data, form.code.data, "create API token")
        except AccountError as error:
            db.session.commit()  # keeps the count of failures, and their audit events
            (form.code if isinstance(error, WrongCode) else form.password).errors.append(str(error))
            return _page(form, status=400)
        try:
            token, secret = create_token(user, form.name.data)
        except TokenError as error:
            db.session.commit()  # the code is used up either way
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            return _page(NewTokenForm(formdata=None), new_secret=secret, new_token=token)
    return _page(form, status=400 if form.errors else 200)


@bp.route("/account/tokens/revoke", methods=["POST"])
@signed_in
def revoke():
    form = RevokeTokenForm()
    if not form.validate_on_submit():
        flash("Choose a token to revoke.", "error")
        return redirect(url_for("api_tokens.index"))
    token = own_token(current_user, int(form.token_id.data))
    if token is None:
        abort(404)
    try:
        revoke_token(token)
    except TokenError as error:
        flash(str(error), "info")
    else:
        db.session.commit()
        flash(f"The token “{token.name}” is revoked; programs using it are refused from now on.", "success")
    return redirect(url_for("api_tokens.index"))
