"""Telling the reporters that a business answered its right-of-reply letter.

In the app: the answer is on the case's timeline and the case is marked new on its assignee's My
work (answers.py). By e-mail, when mail is configured: the person who sent the letter and the
case's assignee, each if they keep right-of-reply e-mails on (Account → E-mail alerts), through the
job queue. The message names the case by reference and business, with a link: never the answer,
the complainant's details, a title or a narrative.
"""
from flask import current_app

from ..extensions import db
from ..jobs.alerts import preferences
from ..jobs.mail import send_mail
from ..jobs.queue import handler, submit
from ..models import ReplyLetter

MAIL_JOB = "reply.answer_mail"


def tell_reporters(letter: ReplyLetter) -> bool:
    """After the answer's commit: queue the e-mail; never raises (the answer is kept whatever happens)."""
    if not current_app.config.get("MAIL_SERVER"):
        return False
    try:
        submit(MAIL_JOB, key=f"{MAIL_JOB}:{letter.id}", once=True, letter_id=letter.id)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Could not queue the answer e-mail of letter %s", letter.id)
        return False
    return True


def answer_message(letter: ReplyLetter) -> tuple[str, str]:
    from .answers import current_case

    case = current_case(letter)
    url = f"{current_app.config['APP_URL']}/cases/{case.reference}"
    subject = f"{case.business.name} answered your letter on {case.reference}"
    body = (f"{case.business.name} answered the right-of-reply letter of {letter.sent_at:%Y-%m-%d} on "
            f"{case.reference} through its private link.\n\nRead the answer on the case: {url}#response\n\n"
            f"Choose which e-mails you get: {current_app.config['APP_URL']}/account/alerts\n")
    return subject, body


@handler(MAIL_JOB, "E-mail reporters that a business answered", max_attempts=3)
def send_answer_mail(letter_id: int) -> str:
    """Run once per letter (the job's key); safe to run twice (a mail may then go twice, never none)."""
    from .answers import current_case

    letter = db.session.get(ReplyLetter, letter_id)
    if letter is None or letter.answered_at is None:
        return "no answer to tell"
    case = current_case(letter)
    people = {person.id: person for person in (letter.sent_by, case.assigned_to) if person is not None}
    subject, body = answer_message(letter)
    sent = 0
    for person in people.values():
        if person.active and person.email and preferences(person).reply_reminders:
            send_mail(person.email, subject, body)
            sent += 1
    return f"told {sent} people about the answer to letter #{letter.id}"
