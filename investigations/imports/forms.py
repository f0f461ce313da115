from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired, Optional, Regexp

from ..forms import StrippedForm, choices
from .generic import TARGETS


class UploadForm(StrippedForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])


class CancelForm(StrippedForm):
    token = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])


def mapping_form(header: list[str]):
    """A select per target field, listing the file's columns (by position: names may repeat or be empty)."""

    class MappingForm(StrippedForm):
        token = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])

    columns = [("", "— not in this file —")] + [
        (str(index), name or f"(column {index + 1}, no name)") for index, name in enumerate(header)]
    for target in TARGETS:
        validators = ([DataRequired(f"Choose the column that holds the {target.label.lower()}.")]
                      if target.required else [Optional()])
        setattr(MappingForm, target.key, SelectField(target.label, choices=choices(columns), validators=validators,
                                                     description=target.help))
    return MappingForm()
