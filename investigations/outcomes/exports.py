"""The outcome and story columns of the case list's CSV and JSON exports (cases/exports.py)."""
from ..models import Case

OUTCOME_COLUMNS = ["outcome", "outcome_on", "money_recovered", "money_recovered_currency",
                   "money_recovered_amount_unknown", "outcome_note", "stories"]


def outcome_columns(case: Case) -> dict:
    """The case's outcome and its stories as export cells. Money recovered keeps its own currency
    column: amounts of different currencies are never one figure."""
    outcome = case.outcome
    return {
        "outcome": outcome.kind if outcome else None,
        "outcome_on": outcome.outcome_on.isoformat() if outcome else None,
        "money_recovered": str(outcome.money_recovered) if outcome and outcome.money_recovered is not None else None,
        "money_recovered_currency": outcome.currency if outcome else None,
        "money_recovered_amount_unknown": outcome.amount_unknown if outcome else None,
        "outcome_note": outcome.note if outcome else None,
        # "Outlet: Headline (2026-12-05) <url>", one per story
        "stories": [f"{story.outlet}: {story.headline} ({story.published_on.isoformat()})"
                    + (f" {story.url}" if story.url else "") for story in case.stories],
    }
