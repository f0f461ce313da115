"""Pieces every area's schemas share: pages, problems, references."""

from marshmallow import Schema, fields, validate

from .field_types import (
    MAX_PER_PAGE,
    _describe,
)


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
