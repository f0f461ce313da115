from wtforms import BooleanField, DateField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

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
    # Shown when deactivating someone with open cases (choices set by the view).
    reassign_to = SelectField("Their open cases go to", choices=[], validate_choice=False,
                              validators=[Optional()])


class AuditFilterForm(StrippedForm):
    """The audit trail's filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    person = SelectField("Person", choices=choices([("", "Anyone")]), validators=[Optional()])
    case = StringField("Case", validators=[Optional(), Length(max=20)],
                       render_kw={"placeholder": "C-2026-00042", "autocomplete": "off"})
    action = SelectField("Action", choices=choices([("", "Any action")]), validators=[Optional()])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
