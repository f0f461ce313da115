from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import StrippedForm, choices
from ..validators import email_address, for_form

BODY_MAX = 20_000
ANSWER_MAX = 20_000


class LetterForm(StrippedForm):
    recipient_name = StringField("Addressed to", validators=[Optional(), Length(max=200)],
                                 description="The business's press or complaints contact, if you know one.")
    recipient_email = StringField("E-mail address", validators=[Optional(), for_form(email_address)])
    recipient_address = TextAreaField("Postal address", validators=[Optional(), Length(max=2000)],
                                      render_kw={"rows": 3})
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("Letter", validators=[DataRequired(), Length(max=BODY_MAX)], render_kw={"rows": 22},
                         description="The deadline and how to answer online are added below your text.")
    delivery = RadioField("How it goes", choices=choices([("email", "E-mail it to the address above, with the PDF"),
                                                          ("hand", "I will send it myself (PDF and text to copy)")]),
                          default="hand")
    form_nonce = HiddenField()

    def validate_recipient_email(self, field):
        if self.delivery.data == "email" and not field.data:
            raise ValidationError("Enter the address to e-mail the letter to, or choose to send it yourself.")

    def validate_form_nonce(self, field):
        if not field.data or len(field.data) > 64:
            raise ValidationError("This form is out of date: open the letter again.")


class AnswerForm(StrippedForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    role = StringField("Your position at the business", validators=[Optional(), Length(max=120)])
    answer = TextAreaField("Your answer", validators=[DataRequired(), Length(max=ANSWER_MAX)],
                           render_kw={"rows": 14})
