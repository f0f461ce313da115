"""Businesses."""

from flask import url_for
from marshmallow import Schema, fields, validate, validates

from ... import validators as rules
from .cases import CaseSummarySchema
from .common import PageArgsSchema, PageSchema
from .field_types import Text, TextLength, _describe, _kept_pattern, _whole, optional_text, required_text


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
