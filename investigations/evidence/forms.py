from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import StrippedForm


class WithdrawForm(StrippedForm):
    reason = TextAreaField("Why is this file withdrawn?", validators=[DataRequired(), Length(max=2000)],
                           render_kw={"rows": 2})


class UploadForm(StrippedForm):
    """Only for the CSRF token and the shared caption; the files are read from request.files."""

    caption = StringField("Caption", validators=[Length(max=2000)])
    source = StringField("Source", validators=[Length(max=255)],
                         description="Who provided it, e.g. “the complainant, by e-mail”.")
