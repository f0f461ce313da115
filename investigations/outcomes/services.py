"""Writes on outcomes and stories. Views and the API call these, then commit; each change writes
its timeline entry and audit event in the same transaction."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from .. import audit
from ..cases.services import add_timeline
from ..extensions import db
from ..models import Case, CaseOutcome, Story, User, utcnow
from ..models.cases import CURRENCIES, TimelineKind
from ..models.outcomes import OUTCOME_KINDS, STORY_FORMATS
from ..template_helpers import format_date, format_money
from ..validators import Invalid, amount, plausible_date, website_url

NOTE_MAX = 2000


class OutcomeInvalid(ValueError):
    """Outcome or story data that cannot be recorded; `errors` says, field by field, why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class OutcomeData:
    kind: str
    outcome_on: date
    money_recovered: Decimal | None = None
    currency: str | None = None
    amount_unknown: bool = False
    note: str | None = None


def check_outcome(case: Case, data: OutcomeData) -> OutcomeData:
    """`data` made ready to record (currency defaulted, note stripped), or OutcomeInvalid."""
    errors = {}
    if data.kind not in OUTCOME_KINDS:
        errors["kind"] = "Choose what happened."
    if data.money_recovered is not None:
        try:
            amount(data.money_recovered)
        except Invalid as error:
            errors["money_recovered"] = str(error)
        if data.amount_unknown:
            errors["amount_unknown"] = "Give the amount recovered, or tick that it is unknown, not both."
    currency = (data.currency or case.currency) if data.money_recovered is not None else None
    if currency is not None and currency not in CURRENCIES:
        errors["currency"] = "Choose a currency from the list."
    if data.outcome_on is None:
        errors["outcome_on"] = "Give the date of the outcome."
    else:
        try:
            plausible_date(data.outcome_on)
        except Invalid as error:
            errors["outcome_on"] = str(error)
        else:
            if data.outcome_on < case.date_received:
                errors["outcome_on"] = (f"The outcome cannot come before the complaint was received "
                                        f"({format_date(case.date_received)}).")
    note = (data.note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        errors["note"] = f"Enter at most {NOTE_MAX:,} characters."
    if errors:
        raise OutcomeInvalid(errors)
    money = data.money_recovered.quantize(Decimal("0.01")) if data.money_recovered is not None else None
    return OutcomeData(data.kind, data.outcome_on, money, currency if money is not None else None,
                       bool(data.amount_unknown), note)


def describe_outcome(outcome: CaseOutcome | OutcomeData) -> str:
    """One line for the timeline: "Refund: USD 300.00 recovered for the complainant (5 Dec 2026)"."""
    text = OUTCOME_KINDS.get(outcome.kind, outcome.kind)
    if outcome.money_recovered is not None:
        text += f": {format_money(outcome.money_recovered, outcome.currency)} recovered for the complainant"
    elif outcome.amount_unknown:
        text += ": money recovered for the complainant, amount unknown"
    return f"{text} ({format_date(outcome.outcome_on)})."


OUTCOME_FIELDS = ("kind", "outcome_on", "money_recovered", "currency", "amount_unknown", "note")


def save_outcome(case: Case, data: OutcomeData, actor: User | None) -> bool:
    """Record the case's outcome, or change it; False when nothing changed. Raises OutcomeInvalid."""
    data = check_outcome(case, data)
    outcome = case.outcome
    created = outcome is None
    if created:
        outcome = CaseOutcome(recorded_by=actor)
        case.outcome = outcome
    changed = [name for name in OUTCOME_FIELDS if getattr(outcome, name) != getattr(data, name)]
    if not changed:
        return False
    for name in changed:
        setattr(outcome, name, getattr(data, name))
    outcome.updated_at = case.updated_at = utcnow()
    add_timeline(case, TimelineKind.OUTCOME, ("Outcome recorded: " if created else "Outcome changed: ")
                 + describe_outcome(outcome), actor, internal=False)
    audit.record("case.outcome", case, actor=actor, created=created, fields=changed, kind=outcome.kind,
                 money_recovered=str(outcome.money_recovered) if outcome.money_recovered is not None else None,
                 currency=outcome.currency, amount_unknown=outcome.amount_unknown,
                 outcome_on=outcome.outcome_on.isoformat())
    return True


# --- Stories ------------------------------------------------------------------------------------


@dataclass
class StoryData:
    outlet: str
    headline: str
    published_on: date
    format: str
    url: str | None = None


def check_story(data: StoryData) -> StoryData:
    errors = {}
    outlet, headline = " ".join((data.outlet or "").split()), " ".join((data.headline or "").split())
    if not outlet:
        errors["outlet"] = "Name the outlet that published it."
    elif len(outlet) > 200:
        errors["outlet"] = "Enter at most 200 characters."
    if not headline:
        errors["headline"] = "Give the story's headline."
    elif len(headline) > 300:
        errors["headline"] = "Enter at most 300 characters."
    if data.format not in STORY_FORMATS:
        errors["format"] = "Choose the story's format."
    url = (data.url or "").strip() or None
    if url:
        try:
            website_url(url)
        except Invalid as error:
            errors["url"] = str(error)
    if data.published_on is None:
        errors["published_on"] = "Give the date it was published."
    else:
        try:
            plausible_date(data.published_on)
        except Invalid as error:
            errors["published_on"] = str(error)
    if errors:
        raise OutcomeInvalid(errors)
    return StoryData(outlet, headline, data.published_on, data.format, url)


def describe_story(story: Story) -> str:
    return f"“{story.headline}” ({story.outlet}, {story.format_label.lower()}, {format_date(story.published_on)})."


def find_story_by_url(url: str | None) -> Story | None:
    if not url:
        return None
    return db.session.scalar(select(Story).where(Story.url == url).order_by(Story.id).limit(1))


def add_story(cases: list[Case], data: StoryData, actor: User) -> tuple[Story, list[Case]]:
    """Record a story about `cases` (the first is the case it was entered on). A story whose address
    was recorded before is that story: the cases are linked to it rather than to a copy. Returns the
    story and the cases newly linked to it."""
    data = check_story(data)
    story = find_story_by_url(data.url)
    if story is None:
        story = Story(outlet=data.outlet, headline=data.headline, url=data.url, published_on=data.published_on,
                      format=data.format, created_by=actor)
        db.session.add(story)
        db.session.flush()
        audit.record("story.create", story, actor=actor, outlet=story.outlet, headline=story.headline,
                     url=story.url, published_on=story.published_on.isoformat(), format=story.format)
    return story, link_story(story, cases, actor)


def link_story(story: Story, cases: list[Case], actor: User) -> list[Case]:
    linked = []
    for case in cases:
        if case in story.cases:
            continue
        story.cases.append(case)
        case.updated_at = utcnow()
        add_timeline(case, TimelineKind.STORY, "Story published: " + describe_story(story), actor, internal=False)
        audit.record("story.link", case, actor=actor, story_id=story.id, headline=story.headline)
        linked.append(case)
    return linked


def unlink_story(story: Story, case: Case, actor: User) -> bool:
    """Take the story off the case (entered on the wrong case); a story about no case is removed."""
    if case not in story.cases:
        return False
    story.cases.remove(case)
    case.updated_at = utcnow()
    add_timeline(case, TimelineKind.NOTE, "Story unlinked from this case: " + describe_story(story), actor,
                 internal=True)
    audit.record("story.unlink", case, actor=actor, story_id=story.id, headline=story.headline)
    if not story.cases:
        db.session.delete(story)
    return True
