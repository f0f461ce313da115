import secrets

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from ..cases.queries import get_visible_case
from ..dossiers.redaction import highlighted
from ..dossiers.render import DossierError
from ..evidence.services import Upload
from ..extensions import db, limiter
from ..models import ReplyLetter
from ..permissions import can_edit_case, public, require, signed_in
from ..storage import letter_store
from . import bp
from .answers import AnswerRefused, find_letter, record_answer
from .forms import AnswerForm, LetterForm
from .letters import (
    Draft,
    LetterAlreadySent,
    LetterRefused,
    abandon_letter,
    draft_letter,
    finish_sending,
    letter_context,
    letter_redactor,
    letter_text,
    planned_due_on,
    refusal,
    send_letter,
)


def _reply_limit() -> str:
    return current_app.config["REPLY_RATE_LIMIT"]


def _editable_case(reference):
    case = get_visible_case(reference, current_user)
    if not can_edit_case(current_user, case):
        abort(403, "Published and closed cases are changed by editors; ask one to reopen it.")
    return case


@bp.route("/cases/<reference>/letter", methods=["GET", "POST"])
@signed_in
def compose(reference):
    """"Ask the business for its response": the letter drafted from the case, to edit, preview and send."""
    case = _editable_case(reference)
    if request.method == "POST":
        form = LetterForm()
    else:
        draft = draft_letter(case, current_user)
        form = LetterForm(formdata=None, data={**vars(draft), "form_nonce": secrets.token_hex(16),
                                               "delivery": "email" if draft.recipient_email else "hand"})
    why_not = refusal(case, current_user)
    if request.method == "POST" and form.validate_on_submit() and request.form.get("action") == "send" \
            and not why_not:
        letter, letter_id = None, None
        try:
            letter, token = send_letter(case, Draft(form.recipient_name.data or "", form.recipient_email.data or "",
                                                    form.recipient_address.data or "", form.subject.data,
                                                    form.body.data),
                                        form.delivery.data, form.form_nonce.data, current_user)
            letter_id = letter.id
            db.session.commit()
        except LetterAlreadySent as error:
            db.session.rollback()
            flash("This letter was already sent; here it is.", "info")
            return redirect(url_for("replies.letter", reference=case.reference, letter_id=error.letter.id))
        except (LetterRefused, DossierError) as error:
            db.session.rollback()
            flash(f"The letter was not sent: {error}", "error")
        except BaseException:
            db.session.rollback()
            abandon_letter(letter_id)
            raise
        else:
            mail_error = finish_sending(letter, token)
            # Shown once: the link's token is stored nowhere, so this page is not kept (no redirect to it).
            return render_template("replies/sent.html", case=case, letter=letter, mail_error=mail_error,
                                   text=letter_text(letter, token))
    redactor = letter_redactor(case)
    preview = request.method == "POST" and not form.errors
    return render_template(
        "replies/compose.html", case=case, form=form, why_not=why_not, due_on=planned_due_on(case),
        grace_days=current_app.config["REPLY_GRACE_DAYS"], preview=preview,
        subject_preview=highlighted(redactor.redact(form.subject.data or "")),
        body_preview=highlighted(redactor.redact(form.body.data or "")),
        withheld=redactor.would_change(form.subject.data) or redactor.would_change(form.body.data),
    ), 400 if request.method == "POST" and form.errors else 200


def _letter_of_case(reference, letter_id) -> ReplyLetter:
    case = get_visible_case(reference, current_user)
    letter = db.session.scalar(select(ReplyLetter).where(ReplyLetter.id == letter_id,
                                                         ReplyLetter.case_id == case.id))
    require(letter is not None)
    return letter


@bp.route("/cases/<reference>/letters/<int:letter_id>")
@signed_in
def letter(reference, letter_id):
    found = _letter_of_case(reference, letter_id)
    return render_template("replies/letter.html", letter=found, case=found.case, text=letter_text(found, None))


@bp.route("/cases/<reference>/letters/<int:letter_id>/pdf")
@signed_in
def letter_pdf(reference, letter_id):
    found = _letter_of_case(reference, letter_id)
    path = letter_store().path_for(found.id)
    if not path.is_file():
        abort(404, "The letter's PDF is missing from the letter store.")
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=f"letter-{found.case.reference}-{found.id}.pdf")


@bp.route("/reply/<token>", methods=["GET", "POST"])
@limiter.limit(_reply_limit)
@public
def answer(token):
    """The business's page: its letter and, until it answers, the form. Nothing else of the archive."""
    found = find_letter(token)
    if found is None:
        return render_template("replies/no_letter.html"), 404
    form = AnswerForm()
    error = None
    if not found.is_answered and form.validate_on_submit():
        uploads = [Upload(file.stream, file.filename) for file in request.files.getlist("files")]
        try:
            record_answer(found, form.name.data, form.role.data or "", form.answer.data, uploads)
        except AnswerRefused as refused:
            error = str(refused)
        else:
            return redirect(url_for("replies.answer", token=token), 303)
    status = 400 if request.method == "POST" and (error or form.errors) and not found.is_answered else 200
    return render_template("replies/answer.html", form=form, error=error,
                           max_files=current_app.config["REPLY_MAX_FILES"], **letter_context(found, None)), status
