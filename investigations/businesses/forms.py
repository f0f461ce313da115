from wtforms import StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import StrippedForm
from ..validators import alias_lines, business_name, email_address, for_form, website_url


class BusinessForm(StrippedForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200), for_form(business_name)])
    aliases = TextAreaField("Other names it trades under", validators=[Optional(), for_form(alias_lines)],
                            description="One per line. A renamed business keeps its old name here.",
                            render_kw={"rows": 3})
    website = URLField("Website", validators=[Optional(), for_form(website_url)])
    address = TextAreaField("Address", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    city = StringField("City", validators=[Optional(), Length(max=120)])
    region = StringField("State or region", validators=[Optional(), Length(max=120)])
    country = StringField("Country", validators=[Optional(), Length(max=120)])
    industry = StringField("Industry", validators=[Optional(), Length(max=120)])
    contact_name = StringField("Press or complaints contact", validators=[Optional(), Length(max=200)],
                               description="Whom right-of-reply letters are addressed to.")
    contact_email = StringField("Contact e-mail", validators=[Optional(), for_form(email_address)])
    contact_address = TextAreaField("Contact postal address", validators=[Optional(), Length(max=2000)],
                                    render_kw={"rows": 2})


class MergeBusinessForm(StrippedForm):
    survivor = StringField("Merge this business into", validators=[DataRequired(), Length(max=200)],
                           description="The name of the business record to keep. This record's cases, name and "
                                       "aliases move there.")
