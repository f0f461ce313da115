"""Dossier exports."""

from marshmallow import Schema, fields, validate

from ...dossiers.audiences import AUDIENCES
from .field_types import StrictBoolean, Text, TextLength, _describe, _kept_pattern


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
