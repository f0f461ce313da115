"""What the API reads and writes (marshmallow). The OpenAPI document is generated from these.

Input schemas take the field rules from investigations/validators.py, as the web forms do, so
that the API accepts exactly what the web accepts, with the same messages; output schemas never carry a complainant's details unless the view
attached them on purpose (see `complainant` on CaseSchema).
"""
import re
from datetime import UTC, date

from flask import url_for
from flask_login import current_user
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates

from .. import validators as rules
from ..dossiers.audiences import AUDIENCES
from ..models.cases import (
    CATEGORIES,
    CURRENCIES,
    NOTE_KINDS,
    RECEIVED_VIA,
    SOURCE_ID_MAX,
    SOURCES,
    Status,
    TimelineKind,
)
from ..models.common import EARLIEST_DATE, LARGEST_ID
from ..models.outcomes import OUTCOME_KINDS, STORY_FORMATS
from ..permissions import allowed_moves, can_edit_case, can_view_case
from ..search.query import SORTS

MAX_PER_PAGE = 100
STATUS_VALUES = [s.value for s in Status]
FORM_RECEIVED_VIA = [key for key in RECEIVED_VIA if key != "import"]


# --- Fields ----------------------------------------------------------------------------------


class Text(fields.String):
    """A string without NUL characters (PostgreSQL refuses them) or surrounding white space.

    Its length limit (a validate.Length's max, or the document's maxLength) holds for the text as
    sent, as the document says, as well as for what is kept. `raw_limit=False` leaves that to a
    rule (the items of a list, whose rule names the list)."""

    def __init__(self, *args, raw_limit: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.raw_limit = raw_limit

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if self.raw_limit:
            self._check_raw_length(value)
        return value.replace("\x00", "").strip()

    def _check_raw_length(self, value: str) -> None:
        for validator in self.validators:
            if isinstance(validator, validate.Length) and validator.max is not None and len(value) > validator.max:
                raise ValidationError(validator._format_error(value, validator.message_max))
        limit = self.metadata.get("maxLength")
        if limit is not None and len(value) > limit:
            raise ValidationError(f"Enter at most {limit} characters.")


class StrictDate(fields.Date):
    """A date written as the document's format says: YYYY-MM-DD (not 20260105)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _alternatives(values: list[str]) -> str:
    return "(?:" + "|".join(values) + ")"


def _dates_until(today: date) -> str:
    """A pattern for the dates from EARLIEST_DATE's year to `today` (plausible_date's range, as of
    the day the document was made; whether the day exists is the `date` format's business)."""
    day, month = "(?:0[1-9]|[12][0-9]|3[01])", "(?:0[1-9]|1[0-2])"
    years = _alternatives([str(year) for year in range(EARLIEST_DATE.year, today.year)])
    this_year = [f"{today.year}-{_alternatives([f'{m:02d}' for m in range(1, today.month)])}-{day}"] \
        if today.month > 1 else []
    this_month = f"{today.year}-{today.month:02d}-{_alternatives([f'{d:02d}' for d in range(1, today.day + 1)])}"
    return "^" + _alternatives([f"{years}-{month}-{day}", *this_year, this_month]) + "$"


def plausible_date_field(**kwargs) -> StrictDate:
    metadata = {"pattern": _dates_until(date.today()), **kwargs.pop("metadata", {})}
    metadata["description"] = " ".join(filter(None, [metadata.get("description"),
                                                    f"From {EARLIEST_DATE.year} to today."]))
    return StrictDate(validate=plausible_date, metadata=metadata, **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON boolean: true or false, as the document says; not 0, 1, "yes" or "on"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


# Characters Text drops from the ends (str.strip's white space) or everywhere (NUL), as a class
# for the document's patterns, which state what Text's stripping means for a required text.
_DROPPED = rules.WHITE_SPACE + "\\u0000"


def _kept_pattern(min_length: int) -> str:
    """A pattern (found anywhere in the string, as JSON Schema's are) that a text matches when it
    still has `min_length` characters once Text has dropped NULs and surrounding white space."""
    kept, any_kept = f"[^{_DROPPED}]", "\\u0000*[^\\u0000]"
    if min_length <= 1:
        return kept
    return f"{kept}(?:{any_kept}){{{min_length - 2},}}\\u0000*{kept}"


class UtcDateTime(fields.DateTime):
    """Times are stored in UTC without a zone; the API writes them with one ("…Z") and reads any
    zone (a time without one is taken as UTC)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.replace(tzinfo=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value.tzinfo is not None:
            try:
                value = value.astimezone(UTC).replace(tzinfo=None)
            except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC time
                raise ValidationError("This time is out of range.") from None
        return value


plausible_date = rules.for_schema(rules.plausible_date)
not_before_earliest_date = rules.for_schema(rules.not_before_earliest_date)
MAX_AMOUNT = rules.MAX_AMOUNT


class TextLength(validate.Length):
    """validate.Length (so the OpenAPI document shows the bounds), saying plainly when a required text is empty."""

    def __call__(self, value):
        if self.min and not value:
            raise ValidationError("This field may not be empty.")
        return super().__call__(value)


def _whole(pattern: str) -> str:
    """`pattern` for the whole text, allowing what Text drops from its ends."""
    return f"^[{_DROPPED}]*(?:{pattern})[{_DROPPED}]*$"


def required_text(max_length: int, min_length: int = 1, metadata: dict | None = None, **kwargs) -> Text:
    metadata = {"pattern": _kept_pattern(min_length), **(metadata or {})}
    return Text(required=True, validate=TextLength(min=min_length, max=max_length), metadata=metadata, **kwargs)


def optional_text(max_length: int, **kwargs) -> Text:
    return Text(allow_none=True, validate=validate.Length(max=max_length), **kwargs)


def _describe(text: str) -> dict:
    return {"description": text}


# --- Shared pieces ---------------------------------------------------------------------------


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000),
                          metadata=_describe("Page number, from 1."))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata=_describe(f"Items per page, at most {MAX_PER_PAGE} (default: the app's "
                                                 "CASES_PER_PAGE, 25)."))


class PageSchema(Schema):
    total = fields.Integer(metadata=_describe("Items in all pages (also in the X-Total-Count header)."))
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class ProblemSchema(Schema):
    """An error (RFC 9457 problem details), sent as application/problem+json."""

    type = fields.String(metadata=_describe("Always about:blank: the status says what kind of problem it is."))
    title = fields.String(metadata=_describe("The status's name, e.g. Not Found."))
    status = fields.Integer(metadata=_describe("The HTTP status code."))
    detail = fields.String(metadata=_describe("What went wrong, for a person to read."))
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(),
                         metadata=_describe("Invalid input: for each field, its messages."))


class UserRefSchema(Schema):
    id = fields.Integer()
    display_name = fields.String()


class BusinessRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()


# --- Cases -----------------------------------------------------------------------------------


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


# --- Timeline --------------------------------------------------------------------------------


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


# --- Evidence --------------------------------------------------------------------------------


class EvidenceSchema(Schema):
    id = fields.Integer()
    case = fields.Function(lambda evidence: evidence.case.reference, metadata=_describe("The case's reference."))
    original_name = fields.String(metadata=_describe("The uploaded file's name, for display only."))
    caption = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    media_type = fields.String(metadata=_describe("Detected from the content, never from the name."))
    type_label = fields.String()
    kind = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.Nested(UserRefSchema)
    uploaded_at = UtcDateTime()
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    gps_location = fields.String(allow_none=True, metadata=_describe(
        "Where a photo was taken, from its EXIF: it can identify a complainant's home."))
    extraction_state = fields.String(metadata=_describe("pending, done, failed or none."))
    withdrawn = fields.Boolean(attribute="is_withdrawn")
    withdrawn_at = UtcDateTime(allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)
    download_url = fields.Function(
        lambda evidence: url_for("api_evidence.download_evidence", evidence_id=evidence.id, _external=True))


class EvidenceListSchema(Schema):
    items = fields.List(fields.Nested(EvidenceSchema))


class UploadSchema(Schema):
    """multipart/form-data: one or more `files`, with a `caption` and `source` for all of them."""

    files = fields.List(Upload(), required=True, validate=validate.Length(min=1),
                        metadata=_describe("One or more files (repeat the field)."))
    caption = Text(validate=validate.Length(max=2000))
    source = Text(validate=validate.Length(max=255))


class UploadFormSchema(Schema):
    caption = Text(load_default="", validate=validate.Length(max=2000))
    source = Text(load_default="", validate=validate.Length(max=255))


class RefusedFileSchema(Schema):
    name = fields.String()
    reason = fields.String()


class UploadResultSchema(Schema):
    added = fields.List(fields.Nested(EvidenceSchema))
    refused = fields.List(fields.Nested(RefusedFileSchema), metadata=_describe(
        "Files not accepted (by their content), with the reason. The others are kept."))
    repeats = fields.List(fields.String(), metadata=_describe(
        "Names of added files identical (same SHA-256) to a file already on the case."))


# --- Businesses ------------------------------------------------------------------------------


class BusinessArgsSchema(PageArgsSchema):
    q = Text(validate=validate.Length(max=200), metadata=_describe("Part of a name or alias."))


class BusinessSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    aliases = fields.List(fields.String(), attribute="alias_names")
    website = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True, metadata=_describe("Its contact for press or complaints."))
    contact_email = fields.String(allow_none=True)
    contact_address = fields.String(allow_none=True)
    case_count = fields.Integer(metadata=_describe("Cases against it that you may see."))
    url = fields.Function(lambda business: url_for("api_businesses.get_business", slug=business.slug,
                                                   _external=True))


class BusinessListSchema(PageSchema):
    items = fields.List(fields.Nested(BusinessSchema))


class CaseCountsSchema(Schema):
    total = fields.Integer()
    status = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata=_describe("By status label."))
    category = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata=_describe("By category label."))


class BusinessDetailSchema(BusinessSchema):
    counts = fields.Nested(CaseCountsSchema)
    # Never `business.cases` (every case): only those the caller may see, set by the view.
    cases = fields.List(fields.Nested(CaseSummarySchema), attribute="cases_visible", metadata=_describe(
        "The cases against it that you may see, newest first (at most 200)."))


class BusinessUpdateSchema(Schema):
    """Changed fields only; `aliases` replaces the list of other names."""

    name = required_text(200, metadata={"pattern": rules.business_name_pattern(),
                                        "description": "It needs a letter or digit."})
    website = Text(allow_none=True, validate=rules.for_schema(rules.website_url), metadata={
        "pattern": _whole(rules.WEBSITE_PATTERN), "maxLength": rules.WEBSITE_MAX,
        "description": "An http:// or https:// address."})
    address = optional_text(2000)
    city = optional_text(120)
    region = optional_text(120)
    country = optional_text(120)
    industry = optional_text(120)
    contact_name = optional_text(200, metadata=_describe("Its contact for press or complaints: right-of-reply "
                                                         "letters are addressed to them."))
    contact_email = Text(allow_none=True, validate=rules.for_schema(rules.email_address),
                         metadata={"format": "email", "maxLength": rules.EMAIL_MAX})
    contact_address = optional_text(2000)
    aliases = fields.List(Text(validate=TextLength(min=1), raw_limit=False, metadata={"maxLength": rules.ALIAS_MAX,
                                                                     "pattern": _kept_pattern(1)}),
                          validate=rules.for_schema(rules.alias_names), metadata={"maxItems": rules.ALIASES_MAX})

    def __init__(self, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)

    @validates("name")
    def _name(self, value, **kwargs):
        rules.for_schema(rules.business_name)(value)


# --- Search ----------------------------------------------------------------------------------


class SearchArgsSchema(Schema):
    q = Text(load_default="", validate=validate.Length(max=10_000), metadata=_describe(
        'Words, "phrases", AND/OR/NOT, wildcards (memb*), fuzzy terms (warrenty~) and fields such as '
        "business:acme, status:new, tag:refund, ref:C-2026-00042, source:cfpb. A CFPB Complaint ID alone finds its "
        "case. Empty: every case you may see."))
    status = Text(validate=validate.OneOf(STATUS_VALUES))
    category = Text(validate=validate.OneOf(list(CATEGORIES)))
    business = fields.Integer(validate=validate.Range(min=1, max=LARGEST_ID),
                              metadata=_describe("A business id (the `business` facet's values)."))
    region = Text(validate=validate.Length(max=100), metadata=_describe("A state or region (lower case)."))
    year = fields.Integer(validate=validate.Range(min=1900, max=2999), metadata=_describe("Year received."))
    source = Text(validate=validate.OneOf(list(SOURCES)), metadata=_describe("Where cases came from."))
    product = Text(validate=validate.Length(max=200), metadata=_describe(
        "A CFPB product, exactly as the `product` facet's values."))
    issue = Text(validate=validate.Length(max=200), metadata=_describe(
        "A CFPB issue, exactly as the `issue` facet's values."))
    company_response = Text(validate=validate.Length(max=200), metadata=_describe(
        "A company response, exactly as the `company_response` facet's values."))
    date_from = StrictDate(data_key="from", metadata=_describe("Received on or after this date."))
    date_to = StrictDate(data_key="to", metadata=_describe("Received on or before this date."))
    sort = Text(load_default="relevance", validate=validate.OneOf(list(SORTS)))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=500))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class SnippetSchema(Schema):
    field = fields.String(metadata=_describe("Where it matched: title, complaint, timeline, evidence, ..."))
    html = fields.String(metadata=_describe("HTML: the text is escaped, the matched words are in <mark>…</mark>."))


class HitSchema(Schema):
    reference = fields.String()
    title = fields.String()
    score = fields.Float(metadata=_describe(
        "Rank on this page scaled to 0..1: 1 for the first hit down to 1/n for the last. Not the engine's "
        "relevance score, whose statistics would count cases you may not see."))
    snippets = fields.List(fields.Nested(SnippetSchema))
    url = fields.String(metadata=_describe("The case in the API."))


class FacetValueSchema(Schema):
    value = fields.String()
    label = fields.String()
    count = fields.Integer()


class SearchResultSchema(PageSchema):
    query = fields.String(metadata=_describe("The query as received (cut to its first 500 characters when run)."))
    suggestion = fields.String(allow_none=True, metadata=_describe(
        "When the query found nothing: the spelling-corrected query whose results are shown instead."))
    notice = fields.String(allow_none=True, metadata=_describe(
        "What was done with a query that could not be read as typed."))
    took_ms = fields.Float()
    hits = fields.List(fields.Nested(HitSchema))
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FacetValueSchema)), metadata=_describe(
        "Counts by status, category, business, region, year, source and, for imported CFPB complaints, product, "
        "issue and company response, over the cases you may see."))


# --- Dossiers --------------------------------------------------------------------------------


class DossierInputSchema(Schema):
    audience = Text(load_default="bbb", validate=validate.OneOf(list(AUDIENCES)), metadata=_describe(
        "internal (newsroom only), news (a news outlet) or bbb (BBB / regulator). What each leaves out: "
        "see the README's Dossiers section."))
    with_originals = StrictBoolean(load_default=False, metadata=_describe(
        "Attach the original evidence files inside the PDF, where the audience may have them."))
    with_photos = StrictBoolean(load_default=False, metadata=_describe(
        "For news and bbb: include photos of evidence whose complainant did not consent to be named."))
    withheld_words = fields.List(Text(validate=TextLength(min=2, max=100), metadata={"pattern": _kept_pattern(2)}),
                                 load_default=list,
                                 validate=validate.Length(max=50), metadata=_describe(
        "For news and bbb: words or phrases to withhold besides the complainant's identity (printed as "
        "[withheld]). The complainant's recorded name, e-mail, phone and address are always withheld."))

