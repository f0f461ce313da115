"""Search arguments and results."""

from marshmallow import Schema, fields, validate

from ...models.cases import (
    CATEGORIES,
    SOURCES,
)
from ...models.common import LARGEST_ID
from ...search.query import SORTS
from .common import PageSchema
from .field_types import MAX_PER_PAGE, STATUS_VALUES, StrictDate, Text, _describe


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
