from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import Email, InputRequired, Length

from ..forms import choices
from ..models import Role

ROLE_CHOICES = choices((role.value, role.label) for role in Role)


class NewUserForm(FlaskForm):
    email = EmailField("E-mail", validators=[InputRequired(), Email(check_deliverability=False), Length(max=254)])
    display_name = StringField("Name", validators=[InputRequired(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)


class EditUserForm(FlaskForm):
    display_name = StringField("Name", validators=[InputRequired(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active (may sign in)")
