from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import StrippedForm, choices
from .audiences import AUDIENCES

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


class ReleaseForm(StrippedForm):
    caption = BooleanField("Its caption")
    file_name = BooleanField("Its file name")
    original = BooleanField("The original file (attached exactly as received)")
    basis = TextAreaField("On what basis?", validators=[
        DataRequired("Say on what basis, e.g. \"The complainant agreed to the BBB referral by e-mail on 3 May\"."),
        Length(max=1000)])


class VerifyForm(FlaskForm):
    file = FileField("The PDF you received back", validators=[FileRequired("Choose a PDF file.")])
