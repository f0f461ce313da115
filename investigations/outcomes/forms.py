from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..forms import StrippedForm, choices
from ..models.cases import CURRENCIES
from ..models.outcomes import OUTCOME_KINDS, STORY_FORMATS
from ..template_helpers import local_today
from ..validators import amount, for_form, plausible_date, website_url
from .services import NOTE_MAX, OutcomeData, StoryData


class OutcomeForm(StrippedForm):
    """What happened in the end. Its own page section ("outcome-…"), and inside the resolve and close
    forms of a status move (prefixed "resolved-…" / "closed-…"), where what is required is the move's rule."""

    kind = SelectField("What happened", choices=choices([("", "Choose…"), *OUTCOME_KINDS.items()]),
                       validators=[Optional()])
    money_recovered = DecimalField("Money recovered for the complainant", places=2,
                                   validators=[Optional(), for_form(amount)],
                                   description="Separate from the amount in dispute; empty if none.")
    # Checked by services.check_outcome, and only with an amount: without one it is not asked for.
    currency = SelectField("Currency", choices=choices((c, c) for c in CURRENCIES), validate_choice=False)
    amount_unknown = BooleanField("Money came back, but the amount is unknown")
    outcome_on = DateField("Date of the outcome", validators=[InputRequired(), for_form(plausible_date)],
                           default=local_today)
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=NOTE_MAX)], render_kw={"rows": 2})

    def fill_from(self, case) -> None:
        """Show the case's recorded outcome (or its currency for a new one)."""
        outcome = case.outcome
        self.currency.data = (outcome.currency if outcome and outcome.currency else None) or case.currency
        if outcome is not None:
            self.kind.data = outcome.kind
            self.money_recovered.data = outcome.money_recovered
            self.amount_unknown.data = outcome.amount_unknown
            self.outcome_on.data = outcome.outcome_on
            self.note.data = outcome.note

    def outcome_data(self) -> OutcomeData:
        return OutcomeData(kind=self.kind.data or "", outcome_on=self.outcome_on.data,
                           money_recovered=self.money_recovered.data, currency=self.currency.data,
                           amount_unknown=bool(self.amount_unknown.data), note=self.note.data)


class StoryForm(StrippedForm):
    outlet = StringField("Outlet", validators=[InputRequired(), Length(max=200)],
                         description="The paper, station or site that published it.")
    headline = StringField("Headline", validators=[InputRequired(), Length(max=300)])
    url = StringField("Address (URL)", validators=[Optional(), for_form(website_url)],
                      description="A story already recorded with this address is linked, not copied.")
    published_on = DateField("Date it ran", validators=[InputRequired(), for_form(plausible_date)],
                             default=local_today)
    format = SelectField("Format", choices=choices(STORY_FORMATS.items()))
    also_about = StringField("Other cases it covers (optional)", validators=[Optional(), Length(max=2000)],
                             description="References separated by commas, e.g. C-2026-00042: a pattern story "
                                         "about one business.")

    def story_data(self) -> StoryData:
        return StoryData(outlet=self.outlet.data, headline=self.headline.data, published_on=self.published_on.data,
                         format=self.format.data, url=self.url.data)
