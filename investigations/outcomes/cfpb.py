"""Outcomes of imported CFPB complaints, from the company's response to the consumer.

"Closed with monetary relief" says money came back without saying how much: a refund outcome with
the amount unknown. "Closed with non-monetary relief": an outcome of kind other. The other
responses ("Closed with explanation", "In progress", …) say nothing about a remedy, so no outcome.

Recorded set-based, with one INSERT … SELECT per response and table (no query per complaint), for
every CFPB case that has such a response and no outcome yet; the import calls it once at its end,
and migration 0018 did the same for complaints imported before.
"""
from sqlalchemy import Boolean, DateTime, Integer, String, Text, and_, exists, insert, literal, select

from .. import audit
from ..extensions import db
from ..models import Case, CaseOutcome, TimelineEntry, User, utcnow
from ..models.cases import TimelineKind
from ..models.outcomes import OUTCOME_KINDS

# company response -> (outcome kind, money came back)
CFPB_OUTCOMES = {
    "Closed with monetary relief": ("refund", True),
    "Closed with non-monetary relief": ("other", False),
}
CFPB_NOTE = "From the CFPB: the company's response to the consumer was “{}”."


def outcome_for_response(response: str | None) -> tuple[str, bool] | None:
    """(outcome kind, money came back) for a CFPB company response, or None when it says no remedy."""
    return CFPB_OUTCOMES.get((response or "").strip())


def record_cfpb_outcomes(author: User | None) -> int:
    """Give each CFPB case whose company response names a remedy its outcome (and timeline entry).
    Returns how many were recorded; the caller commits."""
    now = utcnow()
    recorded = 0
    for response, (kind, money) in CFPB_OUTCOMES.items():
        pending = and_(Case.source == "cfpb", Case.company_response == response,
                       ~exists().where(CaseOutcome.case_id == Case.id))
        outcome_on = db.func.coalesce(Case.response_received_on, Case.date_received)
        body = f"Outcome recorded: {OUTCOME_KINDS[kind]}" + (
            ": money recovered for the complainant, amount unknown" if money else "") + f". {CFPB_NOTE.format(response)}"
        # Typed literals: PostgreSQL reads an untyped parameter in a SELECT list as text.
        author_id, at = literal(author.id if author else None, Integer), literal(now, DateTime)
        db.session.execute(insert(TimelineEntry).from_select(
            ["case_id", "author_id", "kind", "body", "internal", "occurred_at", "created_at"],
            select(Case.id, author_id, literal(TimelineKind.OUTCOME.value, String), literal(body, Text),
                   literal(False, Boolean), at, at).where(pending)))
        result = db.session.execute(insert(CaseOutcome).from_select(
            ["case_id", "kind", "amount_unknown", "outcome_on", "note", "recorded_by_id", "recorded_at", "updated_at"],
            select(Case.id, literal(kind, String), literal(money, Boolean), outcome_on,
                   literal(CFPB_NOTE.format(response), Text), author_id, at, at).where(pending)))
        recorded += max(result.rowcount or 0, 0)
    if recorded:
        audit.record("import.cfpb.outcomes", None, actor=author, recorded=recorded)
    return recorded
