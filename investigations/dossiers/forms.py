from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField

from ..forms import choices
from .audiences import AUDIENCES


class DossierForm(FlaskForm):
    audience = RadioField("Who is it for?", choices=choices((a.key, a.label) for a in AUDIENCES.values()),
                          default="bbb")
    with_originals = BooleanField("Attach the original evidence files inside the PDF, with a manifest of hashes")


class VerifyForm(FlaskForm):
    file = FileField("The PDF you received back", validators=[FileRequired("Choose a PDF file.")])
