from wtforms import StringField
from wtforms.validators import Length

from ..forms import StrippedForm


class SaveSearchForm(StrippedForm):
    name = StringField("Name this search", validators=[Length(max=200)],
                       description="Leave empty to name it after the words searched for.")
