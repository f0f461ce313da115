from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from ..forms import StrippedForm, choices
from ..models import Role

ROLE_CHOICES = choices((role.value, role.label) for role in Role)


class NewUserForm(StrippedForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    display_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)


class EditUserForm(StrippedForm):
    display_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active (may sign in)")
