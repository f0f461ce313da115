"""Sending a right-of-reply letter in a test without the browser form: returns (letter id, link token)."""
from sqlalchemy import select

from investigations.extensions import db
from investigations.models import Case
from investigations.replies.letters import draft_letter, send_letter


def send_test_letter(reference: str, author) -> tuple[int, str]:
    """The case must be under investigation (or awaiting the business's response)."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    letter, token = send_letter(case, draft_letter(case, author), "hand", f"test-{reference}", author)
    db.session.commit()
    return letter.id, token
