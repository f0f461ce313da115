"""Telling an assignee about the cases assigned to them.

In the app, always: a case assigned to someone else is marked new on their My work until they
open it (cases/services.py assign_case). By e-mail, when mail is configured (MAIL_SERVER): one
message per assignment (or bulk assignment), sent by the job queue, so a slow mail server never
holds up the page. The message names cases by reference, business and category, with a link:
never a complainant's details, nor titles or narratives, which often quote them.
"""
from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..jobs.mail import send_mail
from ..jobs.queue import handler, submit
from ..models import Case, User
from .queries import OPEN_STATUSES

MAIL_JOB = "case.assignment_mail"
MAX_CASES_PER_MAIL = 200


def notify_assignment(assignee: User | None, cases: list[Case], actor: User) -> bool:
    """After the commit: queue the e-mail to `assignee` about `cases`, when mail is configured
    and someone else assigned them. Returns whether a mail was queued; never raises."""
    if assignee is None or assignee.id == actor.id or not assignee.active or not cases:
        return False
    if not current_app.config.get("MAIL_SERVER"):
        return False  # told in the app only (My work marks the cases new)
    try:
        submit(MAIL_JOB, user_id=assignee.id, actor_id=actor.id,
               case_ids=sorted(case.id for case in cases)[:MAX_CASES_PER_MAIL])
    except Exception:  # the assignment is committed; My work shows it whatever happens to the mail
        db.session.rollback()
        current_app.logger.exception("Could not queue the assignment e-mail to user %s", assignee.id)
        return False
    return True


def assignment_message(assignee: User, actor: User | None, cases: list[Case]) -> tuple[str, str]:
    """(subject, body) of the e-mail: references, businesses, categories and links only."""
    who = actor.display_name if actor else "An editor"
    count = len(cases)
    subject = (f"{who} assigned you {cases[0].reference}" if count == 1
               else f"{who} assigned you {count} cases")
    base = current_app.config["APP_URL"]
    lines = [f"{who} assigned you {'this case' if count == 1 else f'these {count} cases'}:", ""]
    for case in cases:
        lines.append(f"  {case.reference}  {case.business.name} · {case.category_label}")
        lines.append(f"    {base}/cases/{case.reference}")
    lines += ["", f"They are marked new on My work until you open them: {base}/work/", "",
              "You get this e-mail because someone else assigned you a case in Investigations."]
    return subject, "\n".join(lines) + "\n"


@handler(MAIL_JOB, "E-mail an assignee about their new cases", max_attempts=3)
def send_assignment_mail(user_id: int, actor_id: int | None, case_ids: list[int]) -> str:
    """Safe to run twice (the mail may go twice; it is never lost). Only the cases still assigned
    to the person, and still open, are named; nothing is sent to a deactivated account."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or not user.email:
        return f"user #{user_id} cannot be mailed"
    cases = list(db.session.scalars(
        select(Case).where(Case.id.in_(case_ids), Case.assigned_to_id == user.id, Case.merged_into_id.is_(None),
                           Case.status.in_(OPEN_STATUSES)).order_by(Case.reference)))
    if not cases:
        return "no case is still assigned to them"
    subject, body = assignment_message(user, db.session.get(User, actor_id) if actor_id else None, cases)
    send_mail(user.email, subject, body)
    return f"mailed user #{user.id} about {len(cases)} case(s)"
