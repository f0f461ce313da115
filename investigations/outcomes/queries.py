"""The case list's outcome and story filters (cases/queries.py applies them): the dashboard's
impact figures link to the cases behind each number through these."""
from datetime import date

from sqlalchemy import Select, and_, exists, select

from ..models import Case, CaseOutcome, Story
from ..models.outcomes import OUTCOME_KINDS, case_stories

# ?outcome=: any / none / money (money came back, known amount or not) / one of OUTCOME_KINDS
OUTCOME_FILTERS = {"any": "Any outcome recorded", "none": "No outcome recorded", "money": "Money recovered",
                   **OUTCOME_KINDS}
UNKNOWN_AMOUNT = "unknown"  # ?recovered_in=unknown: money came back, amount unknown


def apply_outcome_filters(query: Select, filters: dict) -> Select:
    """`query` of cases narrowed by outcome (kind, money recovered and its currency, outcome date)
    and by stories (published in a date range)."""
    outcome = filters.get("outcome")
    recovered_in = filters.get("recovered_in")
    outcome_from, outcome_to = _as_date(filters.get("outcome_from")), _as_date(filters.get("outcome_to"))
    if outcome == "none":
        return query.where(~exists().where(CaseOutcome.case_id == Case.id))
    conditions = []
    if outcome == "money":
        conditions.append((CaseOutcome.money_recovered > 0) | CaseOutcome.amount_unknown.is_(True))
    elif outcome in OUTCOME_KINDS:
        conditions.append(CaseOutcome.kind == outcome)
    if recovered_in == UNKNOWN_AMOUNT:
        conditions.append(CaseOutcome.amount_unknown.is_(True))
    elif recovered_in:
        conditions += [CaseOutcome.currency == recovered_in, CaseOutcome.money_recovered > 0]
    if outcome_from:
        conditions.append(CaseOutcome.outcome_on >= outcome_from)
    if outcome_to:
        conditions.append(CaseOutcome.outcome_on <= outcome_to)
    if conditions or outcome == "any":
        query = query.where(exists().where(CaseOutcome.case_id == Case.id, *conditions))
    story_from, story_to = _as_date(filters.get("story_from")), _as_date(filters.get("story_to"))
    if story_from or story_to:
        bounds = [Story.published_on >= story_from] if story_from else []
        bounds += [Story.published_on <= story_to] if story_to else []
        query = query.where(Case.id.in_(
            select(case_stories.c.case_id).join(Story, Story.id == case_stories.c.story_id).where(and_(*bounds))))
    return query


def iso_date_text(value) -> str | None:
    """A filter's date as YYYY-MM-DD text, or None for anything else (a typo narrows nothing)."""
    try:
        return date.fromisoformat(value.strip()).isoformat() if isinstance(value, str) and value.strip() else None
    except ValueError:
        return None


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    text = iso_date_text(value)
    return date.fromisoformat(text) if text else None
