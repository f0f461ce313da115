"""The business's answer, given once through the letter's private link.

The link reaches one letter and nothing else: the letter as sent (already without the
complainant's identity), and the form to answer it. A token that is unknown, belongs to a letter a
later one replaced, or is past its letter's deadline plus the grace period finds nothing, and all
three look the same. Files sent with an answer are checked and stored exactly like evidence; if one
is refused, nothing of the answer is kept and the form says why.
"""
import re

from flask import current_app
from sqlalchemy import select, update

from .. import audit
from ..cases.services import add_timeline
from ..evidence.services import Upload, UploadResult, add_evidence, schedule_extraction, upload_committed
from ..extensions import db
from ..models import Case, ReplyLetter, utcnow
from ..models.cases import TimelineKind
from ..storage import TooLarge
from ..template_helpers import local_today
from .letters import token_hash

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")
BUSINESS_ACTOR = "the business (reply link)"
ANSWER_FILE_SOURCE = "Sent by the business with its answer to the right-of-reply letter"


class AnswerRefused(ValueError):
    """Nothing of the answer was kept; the message says why, for the business."""


def find_letter(token: str | None) -> ReplyLetter | None:
    """The letter whose link this is, while the link still answers; else None."""
    if not token or not TOKEN_SHAPE.fullmatch(token):
        return None
    letter = db.session.scalar(select(ReplyLetter).where(ReplyLetter.token_hash == token_hash(token)))
    if letter is None or letter.superseded_at is not None or local_today() > letter.expires_on:
        return None
    return letter


def current_case(letter: ReplyLetter) -> Case:
    """The letter's case, or the case it was merged into since."""
    case = letter.case
    while case.merged_into is not None:
        case = case.merged_into
    return case


def record_answer(letter: ReplyLetter, name: str, role: str, text: str, uploads: list[Upload]) -> UploadResult:
    """Keep the answer, its files and the case's business response, and commit; then the files'
    text is read and the reporters are told. Raises AnswerRefused (nothing kept) for a second
    answer, too many files, a file over the size limit or a file of a refused type."""
    uploads = [upload for upload in uploads if upload.filename]
    limit = current_app.config["REPLY_MAX_FILES"]
    if len(uploads) > limit:
        raise AnswerRefused(f"Send at most {limit} files with your answer.")
    case = current_case(letter)
    result = UploadResult()
    try:
        with upload_committed(result):
            # One answer per letter, even when two arrive at once: only the first claims the letter.
            claimed = db.session.execute(update(ReplyLetter).where(
                ReplyLetter.id == letter.id, ReplyLetter.answered_at.is_(None)).values(answered_at=utcnow()))
            if claimed.rowcount != 1:
                raise AnswerRefused("This letter has already been answered.")
            db.session.refresh(letter)
            add_evidence(case, [Upload(u.stream, u.filename, source=ANSWER_FILE_SOURCE) for u in uploads],
                         letter.sent_by, result)
            if result.refused:
                raise AnswerRefused("Nothing was sent: " + "; ".join(
                    f"{name_} was refused ({why})" for name_, why in result.refused) + ". Remove it and send again.")
            _keep_answer(letter, case, name, role, text, result)
    except TooLarge as error:
        raise AnswerRefused(f"Nothing was sent: a file is {error}. Each file may be up to "
                            f"{current_app.config['MAX_UPLOAD_MB']} MB.") from error
    schedule_extraction([item.id for item in result.added])
    from .notify import tell_reporters

    tell_reporters(letter)
    return result


def _keep_answer(letter: ReplyLetter, case: Case, name: str, role: str, text: str, result: UploadResult) -> None:
    """The letter keeps the answer; the case's business-response fields and timeline get it too,
    as cases/services.py record_business_response does for an answer typed in by staff."""
    today = local_today()
    who = ", ".join(part for part in (name.strip(), role.strip()) if part)
    letter.answer_name = who[:200] or None
    letter.answer_text = text.strip()
    letter.answer_files = list(result.added)
    case.business_response = letter.answer_text
    case.response_received_on = today
    if case.response_requested_on is None:
        case.response_requested_on = today
    files = f", with {len(result.added)} file{'s' if len(result.added) != 1 else ''}" if result.added else ""
    add_timeline(case, TimelineKind.RESPONSE,
                 f"The business answered right-of-reply letter #{letter.id} through its private link"
                 f"{f' ({who})' if who else ''}{files}:\n\n{letter.answer_text}", None)
    # The assignee sees the case marked new on My work until they open it.
    if case.assigned_to_id is not None:
        case.assignee_seen = False
    audit.record("case.response", case, actor_label=BUSINESS_ACTOR, received_on=today.isoformat(),
                 letter_id=letter.id, evidence=[item.id for item in result.added])
