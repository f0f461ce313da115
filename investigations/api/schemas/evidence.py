"""Evidence files and uploads."""

from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from .common import UserRefSchema
from .field_types import (
    Text,
    UtcDateTime,
    _describe,
)


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
