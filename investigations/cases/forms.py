
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..forms import StrippedForm, choices
from ..models.cases import CATEGORIES, CURRENCIES, NOTE_KINDS, RECEIVED_VIA, SOURCES, Status
from ..models.common import EARLIEST_DATE
from ..outcomes.queries import OUTCOME_FILTERS, UNKNOWN_AMOUNT, iso_date_text
from ..template_helpers import local_today
from ..validators import (
    amount,
    business_name,
    email_address,
    for_form,
    not_before_earliest_date,
    phone_number,
    plausible_date,
    tag_text,
)

# The field rules live in ../validators.py, shared with the API's schemas.


class CaseForm(StrippedForm):
    title = StringField("Title", validators=[DataRequired(), Length(min=3, max=200)],
                        description="One line an editor will recognise, e.g. “Refund refused for faulty washer”.")
    business_name = StringField(
        "Business", validators=[DataRequired(), Length(max=200), for_form(business_name)],
        description="Pick an existing business or type a new name; “ACME Corp.” and “Acme Corp” are the same business.",
    )
    # No silent default: the reporter chooses (the empty first choice is refused).
    category = SelectField("Category", choices=choices([("", "Choose a category…"), *CATEGORIES.items()]),
                           validators=[InputRequired(message="Choose the category that fits the complaint best.")])
    narrative = TextAreaField("What happened", validators=[DataRequired(), Length(min=10, max=50_000)],
                              render_kw={"rows": 8})
    desired_resolution = TextAreaField("What the complainant wants", validators=[Optional(), Length(max=5000)],
                                       render_kw={"rows": 2})
    amount_in_dispute = DecimalField("Amount in dispute", places=2, validators=[Optional(), for_form(amount)])
    currency = SelectField("Currency", choices=choices((c, c) for c in CURRENCIES))
    incident_date = DateField("Date of the incident", validators=[Optional(), for_form(plausible_date)])
    date_received = DateField("Date received", validators=[InputRequired(), for_form(plausible_date)],
                              default=local_today)
    received_via = SelectField("Received via", choices=choices((k, v) for k, v in RECEIVED_VIA.items() if k != "import"))
    tags = StringField("Tags", validators=[Optional(), for_form(tag_text)], description="Separated by commas.")

    complainant_name = StringField("Complainant’s name", validators=[DataRequired(), Length(max=200)])
    complainant_email = StringField("E-mail", validators=[Optional(), for_form(email_address)])
    complainant_phone = StringField("Phone", validators=[Optional(), for_form(phone_number)])
    complainant_address = TextAreaField("Postal address", validators=[Optional(), Length(max=1000)],
                                        render_kw={"rows": 2})
    consent_to_publish = BooleanField("The complainant consents to being named in publications and dossiers")


class NoteForm(StrippedForm):
    kind = SelectField("Kind", choices=choices((k.value, k.label) for k in NOTE_KINDS))
    body = TextAreaField("Note", validators=[DataRequired(), Length(max=20_000)], render_kw={"rows": 3})
    occurred_at = DateTimeLocalField("When (leave empty for now)", validators=[Optional(), for_form(not_before_earliest_date)],
                                     format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    follow_up_on = DateField("Follow up by (optional)", validators=[Optional()],
                             description="E.g. the owner will call back by Friday: it shows on My work until done.")
    internal = BooleanField("Internal: leave it out of dossiers for news outlets and regulators", default=True)

    def validate_follow_up_on(self, field):
        if field.data and field.data < EARLIEST_DATE:
            raise ValidationError(f"This date is before {EARLIEST_DATE.year}: check the year.")


class NoteCorrectionForm(StrippedForm):
    """The author corrects a note; the earlier text is kept."""

    entry_id = HiddenField(validators=[InputRequired()])
    body = TextAreaField("Corrected note", validators=[DataRequired(), Length(max=20_000)], render_kw={"rows": 3})


class FollowUpDoneForm(StrippedForm):
    entry_id = HiddenField(validators=[InputRequired()])


BULK_ACTIONS = {"assign": "Assign to", "status": "Move to"}


class BulkForm(StrippedForm):
    """Editors: assign or move the ticked cases of the list (each change audited on its case)."""

    action = SelectField("Action", choices=choices(BULK_ACTIONS.items()))
    assignee = SelectField("Assign to", coerce=str, validators=[Optional()])
    status = SelectField("Move to", choices=choices([(s.value, s.label) for s in Status]), validators=[Optional()])
    reason = StringField("Reason (needed to close)", validators=[Optional(), Length(max=2000)])


class StatusForm(StrippedForm):
    status = HiddenField(validators=[InputRequired()])
    comment = StringField("Comment (optional)", validators=[Optional(), Length(max=2000)])

    def validate_status(self, field):
        if field.data not in {s.value for s in Status}:
            raise ValidationError("Unknown status.")


class AssignForm(StrippedForm):
    assignee = SelectField("Assign to", coerce=str)


class MergeForm(StrippedForm):
    survivor = StringField("Merge this case into", validators=[DataRequired(), Length(max=20)],
                           description="The reference of the case to keep, e.g. C-2026-00042.",
                           render_kw={"placeholder": "C-2026-00042", "autocomplete": "off"})


class ResponseForm(StrippedForm):
    response = TextAreaField("The business’s response", validators=[DataRequired(), Length(max=50_000)],
                             render_kw={"rows": 4})
    received_on = DateField("Received on", validators=[InputRequired(), for_form(plausible_date)], default=local_today)


class CaseFilterForm(StrippedForm):
    """The case list's filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    # Open cases unless asked otherwise; "all" shows closed ones too.
    status = SelectField("Status", choices=choices(
        [("open", "Open (not resolved, published or closed)"), ("all", "Any status")]
        + [(s.value, s.label) for s in Status]), validators=[Optional()], default="open")
    category = SelectField("Category", choices=choices([("", "Any category"), *CATEGORIES.items()]), validators=[Optional()])
    business = StringField("Business", validators=[Optional()])
    assignee = SelectField("Assigned to", choices=choices([("", "Anyone")]), validators=[Optional()])
    overdue = BooleanField("Overdue replies only")
    # Where cases came from, and the CFPB's own fields of imported complaints (any part of the value).
    source = SelectField("Source", choices=choices([("", "Any source"), *SOURCES.items()]), validators=[Optional()])
    product = StringField("Product", validators=[Optional(), Length(max=200)])
    issue = StringField("Issue", validators=[Optional(), Length(max=200)])
    company_response = StringField("Company response", validators=[Optional(), Length(max=200)])
    # Outcomes and stories (the dashboard's impact figures link here); dates as YYYY-MM-DD text.
    outcome = SelectField("Outcome", choices=choices([("", "Any, or none yet"), *OUTCOME_FILTERS.items()]),
                          validators=[Optional()])
    recovered_in = SelectField("Money recovered in", choices=choices(
        [("", "Any currency"), *((c, c) for c in CURRENCIES), (UNKNOWN_AMOUNT, "Amount unknown")]),
        validators=[Optional()])
    outcome_from = StringField("Outcome from", filters=[iso_date_text], validators=[Optional()])
    outcome_to = StringField("Outcome until", filters=[iso_date_text], validators=[Optional()])
    story_from = StringField("Story published from", filters=[iso_date_text], validators=[Optional()])
    story_to = StringField("Story published until", filters=[iso_date_text], validators=[Optional()])
    sort = HiddenField()
    dir = HiddenField()
