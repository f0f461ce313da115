"""Field types and rules shared by every schema."""
import re
from datetime import UTC, date

from marshmallow import ValidationError, fields, validate

from ... import validators as rules
from ...models.cases import (
    RECEIVED_VIA,
    Status,
)
from ...models.common import EARLIEST_DATE

MAX_PER_PAGE = 100
STATUS_VALUES = [s.value for s in Status]
FORM_RECEIVED_VIA = [key for key in RECEIVED_VIA if key != "import"]


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
