"""Cases, their timeline, outcomes and stories."""
from datetime import date

from flask import url_for
from flask_login import current_user
from marshmallow import Schema, fields, validate, validates

from ... import validators as rules
from ...models.cases import (
    CATEGORIES,
    CURRENCIES,
    NOTE_KINDS,
    SOURCE_ID_MAX,
    SOURCES,
    TimelineKind,
)
from ...models.common import EARLIEST_DATE, LARGEST_ID
from ...models.outcomes import OUTCOME_KINDS, STORY_FORMATS
from ...permissions import allowed_moves, can_edit_case, can_view_case
from .common import BusinessRefSchema, PageArgsSchema, PageSchema, UserRefSchema
from .field_types import (
    _DROPPED,
    FORM_RECEIVED_VIA,
    MAX_AMOUNT,
    STATUS_VALUES,
    StrictBoolean,
    Text,
    TextLength,
    UtcDateTime,
    _describe,
    _whole,
    not_before_earliest_date,
    optional_text,
    plausible_date_field,
    required_text,
)


class CaseFilterSchema(PageArgsSchema):
    status = Text(validate=validate.OneOf(["open", *STATUS_VALUES]),
                  metadata=_describe("A status, or `open` for new, investigating and awaiting response."))
    category = Text(validate=validate.OneOf(list(CATEGORIES)))
    business = Text(validate=validate.Length(max=200),
                    metadata=_describe("A business's name or alias (matched as when filing)."))
    assignee = Text(validate=validate.Regexp(r"^(me|none|\d{1,10})$", error="Use me, none or a user id."),
                    metadata=_describe("`me`, `none`, or a user id."))
    overdue = fields.Boolean(load_default=False,
                             metadata=_describe("Only cases whose business's reply is overdue."))
    source = Text(validate=validate.OneOf(list(SOURCES)), metadata=_describe(
        "Where cases came from: " + ", ".join(f"`{key}` ({label})" for key, label in SOURCES.items()) + "."))
    source_id = Text(validate=validate.Length(max=SOURCE_ID_MAX), metadata=_describe(
        "The source's own ID, exactly (a CFPB Complaint ID); with `source` for one source only."))
    product = Text(validate=validate.Length(max=200), metadata=_describe("The CFPB's product, or any part of it."))
    issue = Text(validate=validate.Length(max=200), metadata=_describe("The CFPB's issue, or any part of it."))
    company_response = Text(validate=validate.Length(max=200), metadata=_describe(
        "The company's response as the CFPB records it (`Closed with explanation`), or any part of it."))


class IncludeArgsSchema(Schema):
    include = Text(validate=validate.OneOf(["complainant"]),
                   metadata=_describe("`complainant` adds the complainant's name and contact details, if you may "
                                      "see the case. Each such view is recorded in the audit trail."))


class CaseInputSchema(Schema):
    """A new case: the same fields and rules as the web's New case form."""

    title = required_text(200, min_length=3)
    business_name = required_text(200, metadata={"pattern": rules.business_name_pattern(), "description": (
        "An existing business is matched by its normalized name or an alias; otherwise a new one is created. "
        "It needs a letter or digit.")})
    category = Text(required=True, validate=validate.OneOf(list(CATEGORIES)))
    narrative = required_text(50_000, min_length=10, metadata=_describe("What happened."))
    desired_resolution = optional_text(5000)
    # NaN and infinity reach the shared rule, which refuses them with the web form's message.
    amount_in_dispute = fields.Decimal(places=2, as_string=True, allow_none=True, allow_nan=True,
                                       validate=rules.for_schema(rules.amount),
                                       metadata={"minimum": 0, "maximum": MAX_AMOUNT,
                                                 "description": "A number or a decimal string: 120.50."})
    currency = Text(validate=validate.OneOf(CURRENCIES),
                    metadata=_describe("Default: the app's DEFAULT_CURRENCY."))
    incident_date = plausible_date_field(allow_none=True)
    date_received = plausible_date_field(metadata=_describe("Default: today."))
    received_via = Text(load_default="web", validate=validate.OneOf(FORM_RECEIVED_VIA))
    tags = fields.List(Text(validate=TextLength(min=1), raw_limit=False, metadata={
        "maxLength": rules.TAG_MAX, "pattern": f"^[^,]*[^{_DROPPED},][^,]*$", "description": "No commas."}),
                       validate=rules.for_schema(rules.tag_names), metadata={"maxItems": rules.TAGS_MAX})
    complainant_name = required_text(200)
    complainant_email = Text(allow_none=True, validate=rules.for_schema(rules.email_address),
                             metadata={"format": "email", "maxLength": rules.EMAIL_MAX})
    complainant_phone = Text(allow_none=True, validate=rules.for_schema(rules.phone_number), metadata={
        "maxLength": rules.PHONE_MAX, "pattern": _whole(rules.PHONE_PATTERN),
        "description": "Digits, spaces and + ( ) - . / x; at least one digit."})
    complainant_address = optional_text(1000)
    consent_to_publish = StrictBoolean(load_default=False, metadata=_describe(
        "The complainant consents to being named in publications and dossiers."))

    @validates("business_name")
    def _business_name(self, value, **kwargs):
        rules.for_schema(rules.business_name)(value)


class CaseUpdateSchema(CaseInputSchema):
    """Changed fields only (PATCH); the others keep their values. `null` empties an optional field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)


class StatusChangeSchema(Schema):
    status = Text(required=True, validate=validate.OneOf(STATUS_VALUES))
    comment = Text(validate=validate.Length(max=2000), metadata=_describe("Kept as an internal timeline note."))


class AssignmentSchema(Schema):
    assignee_id = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1, max=LARGEST_ID),
                                 metadata=_describe("An active reporter's or editor's id; null unassigns."))


class BusinessResponseInputSchema(Schema):
    response = required_text(50_000, metadata=_describe("The business's response."))
    received_on = plausible_date_field(load_default=date.today, metadata=_describe("Default: today."))


class ComplainantSchema(Schema):
    name = fields.String(attribute="complainant_name")
    email = fields.String(attribute="complainant_email", allow_none=True)
    phone = fields.String(attribute="complainant_phone", allow_none=True)
    address = fields.String(attribute="complainant_address", allow_none=True)


class OutcomeSchema(Schema):
    """What the case got back for the complainant. Money recovered carries its own currency."""

    kind = fields.String(metadata=_describe(", ".join(OUTCOME_KINDS)))
    kind_label = fields.String()
    money_recovered = fields.Decimal(as_string=True, allow_none=True, metadata={
        "type": "string", "pattern": r"^\d+\.\d{2}$", "example": "300.00",
        "description": "Money recovered for the complainant (not the amount in dispute), a decimal string."})
    currency = fields.String(allow_none=True, metadata=_describe("The ISO currency of money_recovered."))
    amount_unknown = fields.Boolean(metadata=_describe("Money came back, but the amount is not known."))
    outcome_on = fields.Date()
    note = fields.String(allow_none=True)
    recorded_by = fields.Nested(UserRefSchema, allow_none=True)
    recorded_at = UtcDateTime()
    updated_at = UtcDateTime()


class StorySchema(Schema):
    id = fields.Integer()
    outlet = fields.String()
    headline = fields.String()
    url = fields.String(allow_none=True)
    published_on = fields.Date()
    format = fields.String(metadata=_describe(", ".join(STORY_FORMATS)))
    format_label = fields.String()
    cases = fields.Method("_cases", metadata=_describe("The references of the cases it covers that you may see."))

    def _cases(self, story) -> list[str]:
        return [case.reference for case in story.cases
                if case.merged_into_id is None and can_view_case(current_user, case)]


class CaseSummarySchema(Schema):
    reference = fields.String()
    title = fields.String()
    category = fields.String()
    status = fields.String()
    status_label = fields.String()
    business = fields.Nested(BusinessRefSchema)
    date_received = fields.Date()
    assigned_to = fields.Nested(UserRefSchema, allow_none=True)
    source = fields.String(metadata=_describe(", ".join(SOURCES) + ": where the case came from."))
    source_id = fields.String(allow_none=True, metadata=_describe(
        "The source's own ID: the CFPB's Complaint ID, a CSV file's external ID."))
    overdue = fields.Method("_overdue", metadata=_describe("The business's reply is past its due date."))
    updated_at = UtcDateTime()
    url = fields.Method("_url", metadata=_describe("This case in the API."))

    def _overdue(self, case) -> bool:
        return case.is_overdue()

    def _url(self, case) -> str:
        return url_for("api_cases.get_case", reference=case.reference, _external=True)


class CaseSchema(CaseSummarySchema):
    narrative = fields.String()
    category_label = fields.String()
    desired_resolution = fields.String(allow_none=True)
    amount_in_dispute = fields.Decimal(as_string=True, allow_none=True, metadata={
        "type": "string", "pattern": r"^\d+\.\d{2}$", "example": "89.90",
        "description": "A decimal string, so that no amount is rounded by a JSON parser."})
    currency = fields.String()
    incident_date = fields.Date(allow_none=True)
    received_via = fields.String()
    tags = fields.List(fields.String(), attribute="tag_names")
    consent_to_publish = fields.Boolean()
    created_by = fields.Nested(UserRefSchema)
    business_response = fields.String(allow_none=True)
    response_requested_on = fields.Date(allow_none=True)
    response_due_on = fields.Date(allow_none=True)
    response_received_on = fields.Date(allow_none=True)
    created_at = UtcDateTime()
    source_label = fields.String()
    source_url = fields.String(allow_none=True, metadata=_describe(
        "The complaint's public record at its source (the CFPB's complaint page), if it has one."))
    # The CFPB's own fields of an imported complaint; null for other cases.
    product = fields.String(allow_none=True)
    sub_product = fields.String(allow_none=True)
    issue = fields.String(allow_none=True)
    sub_issue = fields.String(allow_none=True)
    company_response = fields.String(allow_none=True, metadata=_describe("Company response to consumer."))
    timely_response = fields.Boolean(allow_none=True)
    consumer_disputed = fields.Boolean(allow_none=True)
    submitted_via = fields.String(allow_none=True)
    consumer_state = fields.String(allow_none=True, metadata=_describe("The consumer's state, two letters."))
    consumer_zip = fields.String(allow_none=True, metadata=_describe(
        "The consumer's ZIP code as the CFPB publishes it (often its first three digits: 941XX)."))
    can_edit = fields.Method("_can_edit", metadata=_describe("Whether you may change this case."))
    allowed_moves = fields.Method("_allowed_moves", metadata=_describe(
        "The statuses you may move this case to now."))
    web_url = fields.Method("_web_url", metadata=_describe("This case's page in the app."))
    outcome = fields.Nested(OutcomeSchema, allow_none=True, metadata=_describe("Null until one is recorded."))
    stories = fields.List(fields.Nested(StorySchema), metadata=_describe("Stories published about it, newest first."))
    # Set only by a view that recorded the view of these details (?include=complainant); absent otherwise.
    complainant = fields.Nested(ComplainantSchema, attribute="api_complainant", metadata=_describe(
        "Only with ?include=complainant."))

    def _can_edit(self, case) -> bool:
        return can_edit_case(current_user, case)

    def _allowed_moves(self, case) -> list[str]:
        return [target.value for target in allowed_moves(current_user, case)]

    def _web_url(self, case) -> str:
        return url_for("cases.detail", reference=case.reference, _external=True)


class CaseListSchema(PageSchema):
    items = fields.List(fields.Nested(CaseSummarySchema))


class TimelineEntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata=_describe(", ".join(k.value for k in TimelineKind)))
    kind_label = fields.String()
    body = fields.String()
    internal = fields.Boolean(metadata=_describe("Left out of dossiers for news outlets and regulators."))
    occurred_at = UtcDateTime()
    created_at = UtcDateTime()
    author = fields.Nested(UserRefSchema, allow_none=True)


class TimelineListSchema(Schema):
    items = fields.List(fields.Nested(TimelineEntrySchema))


class NoteInputSchema(Schema):
    kind = Text(load_default="note", validate=validate.OneOf([k.value for k in NOTE_KINDS]))
    body = required_text(20_000)
    occurred_at = UtcDateTime(allow_none=True, validate=not_before_earliest_date, metadata={
        "pattern": r"^(?:19[7-9][0-9]|[2-9][0-9]{3})-", "description": f"From {EARLIEST_DATE.year}. Default: now."})
    internal = StrictBoolean(load_default=True, metadata=_describe(
        "Leave it out of dossiers for news outlets and regulators (default: true)."))
