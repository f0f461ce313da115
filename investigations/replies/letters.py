"""The right-of-reply letter: drafted from the case, edited by the reporter, sent once.

Everything in a letter goes outside, so its subject and body pass through the same Redactor as an
outside dossier (dossiers/redaction.py): the identity of every complainant who did not consent is
withheld wherever it is written, including what the reporter typed into the letter. The deadline
and how to answer are not part of the editable text: the app prints them from the right-of-reply
clock and the letter's private link.
"""
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, render_template, url_for
from sqlalchemy import select

from .. import audit
from ..cases.services import WorkflowError, add_timeline, change_status
from ..dossiers.audiences import complainant_cases
from ..dossiers.redaction import Identity, Redactor
from ..dossiers.render import render_pdf
from ..extensions import db
from ..models import Case, ReplyLetter, User, utcnow
from ..models.cases import Status, TimelineKind
from ..models.replies import DELIVERY_LABELS
from ..newsroom import current_newsroom
from ..permissions import can_move_case
from ..storage import letter_store
from ..template_helpers import local_today

SUMMARY_CHARACTERS = 1200
TOKEN_BYTES = 32  # 43 characters in the link


class LetterRefused(ValueError):
    """The letter cannot be sent now; the message says why, for the reporter."""


class LetterAlreadySent(LetterRefused):
    def __init__(self, letter: ReplyLetter):
        super().__init__("This letter was already sent.")
        self.letter = letter


def letter_redactor(case: Case) -> Redactor:
    """Withholds the identity of the case's complainant, and of complainants of cases merged into
    it, unless that complainant consented to be named."""
    hidden = [other for other in complainant_cases(case) if not other.consent_to_publish]
    return Redactor([Identity.of_case(other) for other in hidden])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clock_running(case: Case) -> bool:
    """The business was asked and has not answered: its deadline is the case's."""
    return (case.status == Status.AWAITING_RESPONSE.value and case.response_received_on is None
            and case.response_due_on is not None)


def planned_due_on(case: Case, today: date | None = None) -> date:
    """The deadline the letter will carry: the running clock's, or the one sending it will start."""
    if clock_running(case):
        return case.response_due_on
    return (today or local_today()) + timedelta(days=current_app.config["RIGHT_OF_REPLY_DAYS"])


def refusal(case: Case, user: User) -> str | None:
    """Why `user` cannot send a letter on `case` now, or None."""
    if case.merged_into_id is not None:
        return "This case was merged into another; write from that case."
    if clock_running(case):
        return None
    if case.status == Status.AWAITING_RESPONSE.value and case.response_received_on is not None:
        return ("The business has already answered. Move the case back to investigating before asking it "
                "again.")
    if not can_move_case(user, case, Status.AWAITING_RESPONSE) or case.status != Status.INVESTIGATING.value:
        return (f"The business is asked once the case is being investigated; this case is "
                f"{case.status_label.lower()}.")
    return None


def _summary(text: str, limit: int = SUMMARY_CHARACTERS) -> str:
    """The narrative's beginning, cut after a sentence (or a word) near `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[:end + 1] if end > limit // 2 else cut.rsplit(" ", 1)[0] + " …"


@dataclass
class Draft:
    recipient_name: str
    recipient_email: str
    recipient_address: str
    subject: str
    body: str


def draft_letter(case: Case, author: User) -> Draft:
    """The letter as the app proposes it: the allegations in neutral words, the questions, a
    signature. The reporter edits it before it goes."""
    business, newsroom = case.business, current_newsroom()
    who = case.complainant_name if case.consent_to_publish else "A consumer"
    facts = []
    if case.incident_date:
        facts.append(f"It concerns events of {case.incident_date:%-d %B %Y}.")
    if case.amount_in_dispute is not None:
        facts.append(f"The amount in dispute is {case.amount_in_dispute:,.2f} {case.currency}.")
    if case.desired_resolution:
        facts.append(f"The consumer asks for: {_summary(case.desired_resolution, 400)}")
    paragraphs = [
        f"Dear {business.contact_name or 'Sir or Madam'},",
        f"{newsroom.name} is looking into a consumer complaint about {business.name} (our reference "
        f"{case.reference}). Before we report on it, we would like to hear your side.",
        f"{who} has told us the following, which we have not yet verified: “{case.title}”.",
        _summary(case.narrative),
        " ".join(facts),
        "Our questions:\n"
        "1. Is this account accurate? If not, what happened in your view?\n"
        "2. What is your policy in cases like this, and was it followed here?\n"
        "3. Has the matter been resolved, or will it be? If so, how and when?\n"
        "4. Is there anything else you would like us to take into account?",
        f"Yours sincerely,\n{author.display_name}\n{newsroom.name}",
    ]
    redactor = letter_redactor(case)
    return Draft(
        recipient_name=business.contact_name or "", recipient_email=business.contact_email or "",
        recipient_address=business.contact_address or business.address or "",
        subject=redactor.redact(f"Your response to a consumer complaint ({case.reference})")[:200],
        body=redactor.redact("\n\n".join(paragraph for paragraph in paragraphs if paragraph)))


def reply_url(token: str) -> str:
    return current_app.config["APP_URL"] + url_for("replies.answer", token=token)


def letter_context(letter: ReplyLetter, token: str | None) -> dict:
    """What the PDF, the e-mail and the text to send by hand print (the link only with the token)."""
    return {"letter": letter, "case": letter.case, "newsroom": current_newsroom(),
            "reply_url": reply_url(token) if token else None,
            "grace_days": current_app.config["REPLY_GRACE_DAYS"],
            "body_paragraphs": [part for part in re.split(r"\n\s*\n", letter.body) if part.strip()]}


def letter_text(letter: ReplyLetter, token: str | None) -> str:
    return render_template("replies/letter.txt", **letter_context(letter, token))


def send_letter(case: Case, draft: Draft, delivery: str, form_nonce: str, actor: User) -> tuple[ReplyLetter, str]:
    """Record the letter and its request: the right-of-reply clock starts (unless it is running),
    earlier unanswered letters stop answering, the PDF is stored and its SHA-256 goes on the
    timeline. Returns the letter and its link's token (kept nowhere else). The caller commits, then
    calls `finish_sending`; if the commit fails, it rolls back and calls `abandon_letter`."""
    already = db.session.scalar(select(ReplyLetter).where(ReplyLetter.form_nonce == form_nonce))
    if already is not None:
        raise LetterAlreadySent(already)
    if why := refusal(case, actor):
        raise LetterRefused(why)
    if delivery not in DELIVERY_LABELS:
        raise LetterRefused("Choose how the letter goes.")
    if delivery == "email" and not draft.recipient_email.strip():
        raise LetterRefused("Enter the address to e-mail the letter to, or choose to send it yourself.")
    if not clock_running(case):
        try:
            change_status(case, Status.AWAITING_RESPONSE, actor)
        except WorkflowError as error:
            raise LetterRefused(str(error)) from error
    now = utcnow()
    for earlier in db.session.scalars(select(ReplyLetter).where(
            ReplyLetter.case_id == case.id, ReplyLetter.answered_at.is_(None), ReplyLetter.superseded_at.is_(None))):
        earlier.superseded_at = now
    redactor = letter_redactor(case)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    letter = ReplyLetter(
        case=case, form_nonce=form_nonce, recipient_name=draft.recipient_name.strip() or None,
        recipient_email=draft.recipient_email.strip() or None,
        recipient_address=draft.recipient_address.strip() or None,
        subject=redactor.redact(draft.subject.strip())[:200], body=redactor.redact(draft.body.strip()),
        due_on=case.response_due_on,
        expires_on=case.response_due_on + timedelta(days=current_app.config["REPLY_GRACE_DAYS"]),
        token_hash=token_hash(token), delivery=delivery, sent_by=actor, sent_at=now)
    db.session.add(letter)
    db.session.flush()
    rendered = render_pdf("replies/letter_pdf.html", [], **letter_context(letter, token))
    letter.pdf_sha256, letter.pdf_size = hashlib.sha256(rendered.data).hexdigest(), len(rendered.data)
    try:
        letter_store().write(letter.id, rendered.data)
        _record_sending(case, letter, delivery, actor)
    except BaseException:
        abandon_letter(letter.id)
        raise
    return letter, token


def _record_sending(case: Case, letter: ReplyLetter, delivery: str, actor: User) -> None:
    to = letter.recipient_email if delivery == "email" else "to send by hand"
    add_timeline(case, TimelineKind.RESPONSE,
                 f"Right-of-reply letter #{letter.id} sent to {case.business.name} ({to}), asking for an answer "
                 f"by {letter.due_on:%-d %B %Y}. Letter PDF SHA-256: {letter.pdf_sha256}.", actor)
    audit.record("reply.letter_send", case, letter_id=letter.id, sha256=letter.pdf_sha256, delivery=delivery,
                 recipient=letter.recipient_email, due_on=letter.due_on.isoformat(),
                 expires_on=letter.expires_on.isoformat())


def abandon_letter(letter_id: int | None) -> None:
    """After a rollback: the PDF of a letter that was never recorded goes too."""
    if letter_id is not None:
        letter_store().remove(letter_id)


def finish_sending(letter: ReplyLetter, token: str) -> str | None:
    """After the commit: e-mail the letter when that was chosen. Sent here, not by the job queue,
    because the message carries the link's token, which is stored nowhere (a queued job's
    arguments are). Returns why the e-mail failed, or None."""
    if letter.delivery != "email":
        return None
    from ..jobs.mail import send_mail

    try:
        pdf = letter_store().path_for(letter.id).read_bytes()
        send_mail(letter.recipient_email, letter.subject, letter_text(letter, token),
                  attachments=[(f"letter-{letter.case.reference}.pdf", "application/pdf", pdf)],
                  reply_to=letter.sent_by.email)
    except Exception as error:  # noqa: BLE001 — the letter is recorded; the reporter can send it by hand
        current_app.logger.exception("Could not e-mail right-of-reply letter %s", letter.id)
        audit.record("reply.letter_mail_failed", letter.case, letter_id=letter.id, error=str(error)[:300])
        db.session.commit()
        return str(error) or error.__class__.__name__
    letter.mailed_at = utcnow()
    audit.record("reply.letter_mailed", letter.case, letter_id=letter.id, recipient=letter.recipient_email)
    db.session.commit()
    return None


def letters_of(case: Case) -> list[ReplyLetter]:
    return list(db.session.scalars(select(ReplyLetter).where(ReplyLetter.case_id == case.id)
                                   .order_by(ReplyLetter.sent_at.desc(), ReplyLetter.id.desc())))
