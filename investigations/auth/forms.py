from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

MIN_PASSWORD_LENGTH = 12


class LoginForm(FlaskForm):
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
