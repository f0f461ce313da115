"""The rules for fields that people type, in one place for the web forms and the API.

Each rule takes a value and returns it (cleaned where that is part of the rule) or raises
Invalid with the message a person sees. `for_form` makes a rule a WTForms validator and
`for_schema` a marshmallow one, so that the same bad input gets the same message through both.
"""
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from email_validator import EmailNotValidError, validate_email

from .models.common import date_problem


class Invalid(ValueError):
    """The value breaks a field's rule; str() is the message for the person who typed it."""


# --- Lengths (the database columns' limits where there are some) -------------------------------

WEBSITE_MAX = 500
EMAIL_MAX = 254
PHONE_MAX = 50
TAG_MAX = 60
TAGS_MAX = 50
MAX_AMOUNT = 10**11


# --- Rules -----------------------------------------------------------------------------------

WEBSITE_MESSAGE = "Enter a full web address starting with http:// or https://, e.g. https://example.com"

# White space as str.strip() and Python's \s know it, spelled out so that every regular-expression
# engine (the OpenAPI document's readers too) reads the patterns below the same way.
WHITE_SPACE = "".join(f"\\u{c:04x}" for c in range(0x3001) if chr(c).isspace())
# A web address a reader may safely click: http or https; a host name (ASCII: an IDN is written as
# xn--…, which also keeps look-alike letters out) or a bracketed IPv6 address; no user name or
# password; an optional port; then no white space, control characters or backslashes.
WEBSITE_PATTERN = (
    r"[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\])(?::[0-9]{0,5})?"
    rf"(?:[/?#][^{WHITE_SPACE}\u0000-\u001f\u007f\\]*)?"
)


def website_url(value: str) -> str:
    """A web address matching WEBSITE_PATTERN, at most WEBSITE_MAX characters. `javascript:`,
    `data:` and `file:` addresses are refused, and so is anything else but http and https."""
    value = value.strip()
    if len(value) > WEBSITE_MAX:
        raise Invalid(f"Enter at most {WEBSITE_MAX} characters.")
    if not re.fullmatch(WEBSITE_PATTERN, value):
        raise Invalid(WEBSITE_MESSAGE)
    return value


@cache
def business_name_pattern() -> str:
    """A pattern that a name matches when it has a character business_name counts: one that is,
    or folds to, a letter or digit (of the Basic Multilingual Plane; the OpenAPI document's)."""
    from .businesses.naming import normalize_business_name

    ranges: list[list[int]] = []
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF or not normalize_business_name(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "[" + "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges) + "]"


def business_name(value: str) -> str:
    from .businesses.naming import normalize_business_name  # here: the businesses package imports this module

    if not normalize_business_name(value or ""):
        raise Invalid("Enter the business’s name in letters or digits.")
    return value


EMAIL_MESSAGE = "Invalid email address."  # the web form's message before the API shared it


def email_address(value: str) -> str:
    """An address as typed (not rewritten), if it has the shape of a deliverable one; nothing is looked up."""
    value = value.strip()
    if len(value) > EMAIL_MAX:
        raise Invalid(f"Enter at most {EMAIL_MAX} characters.")
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(EMAIL_MESSAGE) from None
    return value


PHONE_CHARACTERS = r"[0-9+()./ x-]"
PHONE_PATTERN = rf"{PHONE_CHARACTERS}*[0-9]{PHONE_CHARACTERS}*"  # at least one digit


def phone_number(value: str) -> str:
    value = value.strip()
    if len(value) > PHONE_MAX:
        raise Invalid(f"Enter at most {PHONE_MAX} characters.")
    if not re.fullmatch(PHONE_PATTERN, value):
        raise Invalid("Use digits, spaces and + ( ) - only.")
    return value


def amount(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise Invalid("Enter an amount such as 120.50.")
    if value < 0:
        raise Invalid("Enter an amount of zero or more.")
    if value > MAX_AMOUNT:
        raise Invalid(f"Enter at most {MAX_AMOUNT:,}.")
    return value


def plausible_date(value: date) -> date:
    """The date of something that has happened: not in the future, not before the archive's earliest year."""
    problem = date_problem(value)
    if problem:
        raise Invalid(problem)
    return value


def not_before_earliest_date(value: datetime) -> datetime:
    problem = date_problem(value.date(), future_allowed=True)
    if problem:
        raise Invalid(problem)
    return value


def tag_names(names: list[str]) -> list[str]:
    """Tags as a list (the API) or split from "refund, washer" (the form): each at most TAG_MAX
    characters, no commas, at most TAGS_MAX of them."""
    names = [name for name in names if name.strip()]
    if len(names) > TAGS_MAX:
        raise Invalid(f"Enter at most {TAGS_MAX} tags.")
    for name in names:
        if "," in name:
            raise Invalid("A tag cannot contain a comma.")
        if len(" ".join(name.split())) > TAG_MAX:
            raise Invalid(f"A tag has at most {TAG_MAX} characters.")
    return names


def tag_text(value: str) -> str:
    tag_names(value.split(","))
    return value


ALIAS_MAX = 200
ALIASES_MAX = 100


def alias_names(names: list[str]) -> list[str]:
    """Other names of a business: a list (the API) or one a line (the form)."""
    names = [name for name in names if name.strip()]
    if len(names) > ALIASES_MAX:
        raise Invalid(f"Enter at most {ALIASES_MAX} other names.")
    if any(len(" ".join(name.split())) > ALIAS_MAX for name in names):
        raise Invalid(f"A name has at most {ALIAS_MAX} characters.")
    return names


def alias_lines(value: str) -> str:
    alias_names(value.splitlines())
    return value


# --- Adapters --------------------------------------------------------------------------------


def for_form(rule: Callable) -> Callable:
    """`rule` as a WTForms validator (empty values are left to Optional/DataRequired)."""
    from wtforms.validators import ValidationError

    def validator(form, field):
        if field.data is None or field.data == "":
            return
        try:
            rule(field.data)
        except Invalid as error:
            raise ValidationError(str(error)) from None

    return validator


def for_schema(rule: Callable) -> Callable:
    """`rule` as a marshmallow validator (None is left to allow_none)."""
    from marshmallow import ValidationError

    def validator(value):
        if value is None:
            return
        try:
            rule(value)
        except Invalid as error:
            raise ValidationError(str(error)) from None

    return validator
