from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from ..forms import StrippedForm

MIN_PASSWORD_LENGTH = 12


class LoginForm(StrippedForm):
    email = EmailField("E-mail", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in on this device")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired(), Length(max=1024)])
    new_password = PasswordField(
        "New password", validators=[InputRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words make a good one.",
    )
    confirm = PasswordField("New password again", validators=[
        InputRequired(), EqualTo("new_password", message="The two new passwords differ.")])


def code_field(label: str = "Code from your authenticator app") -> StringField:
    return StringField(label, validators=[InputRequired(message="Enter the 6-digit code."), Length(max=20)],
                       description="Six digits; a new one every 30 seconds.",
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 -]*",
                                  "maxlength": "20"})


class CodeForm(StrippedForm):
    """The second step of signing in."""
    code = code_field()


class StartTwoFactorForm(StrippedForm):
    """Only a button: makes a new secret."""


class ConfirmTwoFactorForm(StrippedForm):
    code = code_field("Code the app now shows")


class DisableTwoFactorForm(StrippedForm):
    password = PasswordField("Your password", validators=[InputRequired(), Length(max=1024)])
    code = code_field()


class EndOtherSessionsForm(StrippedForm):
    """Only a button: signs out every other session of the account."""
