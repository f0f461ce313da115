from wtforms import StringField, TextAreaField, URLField
from wtforms.validators import URL, DataRequired, Length, Optional, ValidationError

from ..forms import StrippedForm
from .naming import normalize_business_name


class BusinessForm(StrippedForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    aliases = TextAreaField("Other names it trades under", validators=[Optional(), Length(max=5000)],
                            description="One per line. A renamed business keeps its old name here.",
                            render_kw={"rows": 3})
    website = URLField("Website", validators=[Optional(), URL(message="Enter a full address, e.g. https://example.com"),
                                              Length(max=500)])
    address = TextAreaField("Address", validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})
    city = StringField("City", validators=[Optional(), Length(max=120)])
    region = StringField("State or region", validators=[Optional(), Length(max=120)])
    country = StringField("Country", validators=[Optional(), Length(max=120)])
    industry = StringField("Industry", validators=[Optional(), Length(max=120)])

    def validate_name(self, field):
        if not normalize_business_name(field.data or ""):
            raise ValidationError("Enter the business’s name in letters or digits.")


class MergeBusinessForm(StrippedForm):
    survivor = StringField("Merge this business into", validators=[DataRequired(), Length(max=200)],
                           description="The name of the business record to keep. This record's cases, name and "
                                       "aliases move there.")
