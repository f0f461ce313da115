from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import StrippedForm, choices
from ..models.cases import CATEGORIES, STATUS_LABELS
from .audiences import AUDIENCES
from .selection import DEFAULT_FULL_CASES, MAX_FULL_CASES, Selection

MAX_WITHHELD_WORDS = 50
MAX_WITHHELD_WORD_CHARS = 100


def withheld_word_list(text: str | None) -> tuple[str, ...]:
    """The words to withhold as typed, one per line, blank lines and repeats dropped."""
    seen, words = set(), []
    for line in (text or "").splitlines():
        word = " ".join(line.split())
        if word and word.lower() not in seen:
            seen.add(word.lower())
            words.append(word)
    return tuple(words)


class DossierForm(StrippedForm):
    audience = RadioField("Who is it for?", choices=choices((a.key, a.label) for a in AUDIENCES.values()),
                          default="bbb")
    with_originals = BooleanField("Attach the original evidence files inside the PDF, with a manifest of hashes")
    with_photos = BooleanField("Include photos of evidence whose complainant did not consent to be named")
    withheld_words = TextAreaField(
        "Also withhold these words from a news or BBB dossier",
        description="One word or phrase per line: a street, an employer, a relative's name. They print as "
                    "[withheld]. The complainant's recorded name, e-mail, phone and address are withheld "
                    "without being listed here.")
    recipient = StringField(
        "Recipient", validators=[Optional(), Length(max=200)],
        description="Who receives it, e.g. \"BBB of Central Ohio\" or \"The Dispatch, consumer desk\": printed on the "
                    "cover and kept in the list of issued dossiers.")
    preview = SubmitField("Preview what is withheld")
    export = SubmitField("Export PDF")

    def validate_withheld_words(self, field):
        words = withheld_word_list(field.data)
        if len(words) > MAX_WITHHELD_WORDS:
            raise ValidationError(f"Withhold at most {MAX_WITHHELD_WORDS} words or phrases.")
        if any(len(word) > MAX_WITHHELD_WORD_CHARS for word in words):
            raise ValidationError(f"Each word or phrase may have at most {MAX_WITHHELD_WORD_CHARS} characters.")
        if any(len(word) < 2 for word in words):
            raise ValidationError("Each word to withhold needs at least two characters.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BusinessDossierForm(DossierForm):
    """A business dossier: which cases it covers, and which of them it prints in full."""

    date_from = DateField("Received from", validators=[Optional()])
    date_to = DateField("Received until", validators=[Optional()])
    statuses = MultiCheckboxField("Statuses (none ticked: every status)",
                                  choices=choices((status.value, label) for status, label in STATUS_LABELS.items()))
    categories = MultiCheckboxField("Kinds of complaint (none ticked: every kind)", choices=choices(CATEGORIES.items()))
    full_count = IntegerField(
        "Print in full the most recent", default=DEFAULT_FULL_CASES,
        validators=[Optional(), NumberRange(0, MAX_FULL_CASES, f"Between 0 and {MAX_FULL_CASES} cases.")],
        description="Every chosen case gets one line in the case list; this many (the newest) are printed in full.")
    full_tag = StringField(
        "… or print in full the cases tagged", validators=[Optional(), Length(max=60)],
        description="Instead of the most recent: the chosen cases carrying this tag (e.g. dossier).")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("This date is before the “from” date.")

    def selection(self) -> Selection:
        full_count = self.full_count.data if self.full_count.data is not None else DEFAULT_FULL_CASES
        return Selection(self.date_from.data, self.date_to.data, tuple(self.statuses.data or ()),
                         tuple(self.categories.data or ()), full_count, " ".join((self.full_tag.data or "").split()))


class ReleaseForm(StrippedForm):
    caption = BooleanField("Its caption")
    file_name = BooleanField("Its file name")
    original = BooleanField("The original file (attached exactly as received)")
    basis = TextAreaField("On what basis?", validators=[
        DataRequired("Say on what basis, e.g. \"The complainant agreed to the BBB referral by e-mail on 3 May\"."),
        Length(max=1000)])


class VerifyForm(FlaskForm):
    file = FileField("The PDF you received back", validators=[FileRequired("Choose a PDF file.")])
