from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..forms import StrippedForm, choices
from ..models.cases import CATEGORIES, CURRENCIES
from ..validators import amount, business_name, email_address, for_form, phone_number, plausible_date

CONSENT_CHOICES = [("no", "No: keep my name out of anything published"), ("yes", "Yes, you may name me")]


class ComplaintForm(StrippedForm):
    """The public complaint form. Plain words: the person filling it in is not a journalist."""

    summary = StringField("In one line, what is your complaint?", validators=[DataRequired(), Length(min=3, max=200)],
                          description="For example: “The shop refused to refund a faulty kettle”.")
    narrative = TextAreaField("What happened?", validators=[DataRequired(), Length(min=10, max=20_000)],
                              description="In your own words: what you bought or agreed, what went wrong, and what "
                                          "you have done about it so far.", render_kw={"rows": 8})
    business_name = StringField("Which business is it about?",
                                validators=[DataRequired(), Length(max=200), for_form(business_name)],
                                description="Its name as you know it, e.g. from a receipt.")
    incident_date = DateField("When did it happen? (if you know)", validators=[Optional(), for_form(plausible_date)])
    amount_in_dispute = DecimalField("How much money is involved? (if any)", places=2,
                                     validators=[Optional(), for_form(amount)])
    currency = SelectField("Currency", choices=choices((c, c) for c in CURRENCIES))
    desired_resolution = TextAreaField("What would you like to happen?", validators=[Optional(), Length(max=5000)],
                                       render_kw={"rows": 2})

    complainant_name = StringField("Your name", validators=[DataRequired(), Length(max=200)],
                                   render_kw={"autocomplete": "name"})
    complainant_email = StringField("Your e-mail address", validators=[Optional(), for_form(email_address)],
                                    render_kw={"autocomplete": "email", "type": "email"})
    complainant_phone = StringField("Your phone number", validators=[Optional(), for_form(phone_number)],
                                    render_kw={"autocomplete": "tel", "type": "tel"})
    complainant_address = TextAreaField("Your postal address (optional)", validators=[Optional(), Length(max=1000)],
                                        render_kw={"rows": 2, "autocomplete": "street-address"})
    consent = RadioField("May we name you if we publish?", choices=choices(CONSENT_CHOICES),
                         validators=[InputRequired(message="Choose yes or no.")])

    # Spam checks (guards.py): a field people never see, and when the form was shown, signed.
    website = StringField("Leave this empty", validators=[Optional()])
    started = HiddenField()

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.complainant_email.data and not self.complainant_phone.data:
            self.complainant_email.errors = [*self.complainant_email.errors,
                                             "Give an e-mail address or a phone number, so that we can reach you."]
            return False
        return valid


class StatusForm(StrippedForm):
    code = StringField("Your receipt code", validators=[DataRequired(message="Enter the code from your receipt.")],
                       description="For example K7PM-QX4T-2WNH. Capital or small letters, with or without dashes.",
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})


class AddInformationForm(StrippedForm):
    code = HiddenField(validators=[DataRequired()])
    note = TextAreaField("Anything to add?", validators=[Optional(), Length(max=5000)], render_kw={"rows": 4})


class AcceptForm(StrippedForm):
    title = StringField("Case title", validators=[DataRequired(), Length(min=3, max=200)])
    category = SelectField("Category", choices=choices([("", "Choose a category…"), *CATEGORIES.items()]),
                           validators=[InputRequired(message="Choose the category that fits the complaint best.")])
    assignee = SelectField("Assign to", choices=[], validators=[Optional()])

    def validate_category(self, field):
        if field.data not in CATEGORIES:
            raise ValidationError("Choose the category that fits the complaint best.")


class DuplicateForm(StrippedForm):
    reference = StringField("Duplicate of case", validators=[DataRequired(), Length(max=20)],
                            description="The reference of the existing case, e.g. C-2026-00042.")


class DeclineForm(StrippedForm):
    reason = TextAreaField("Reason for declining", validators=[DataRequired(), Length(max=2000)],
                           render_kw={"rows": 2}, description="Kept with the record and in the audit trail; never "
                                                              "shown to the complainant.")
