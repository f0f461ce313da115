"""Issuing dossiers: render, keep the file, record who issued what to whom, and verify copies."""
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app, send_file
from pypdf import PdfReader
from sqlalchemy import select

from .. import audit
from ..businesses.services import complaint_pattern
from ..cases.services import add_timeline
from ..evidence.services import ensure_photo_copies
from ..extensions import db
from ..models import Business, Case, Dossier, DossierState, User, utcnow
from ..models.cases import TimelineKind
from ..storage import dossier_store
from .audiences import AUDIENCES, NO_CHOICES, Audience, Choices, case_content
from .render import render_pdf


def dossier_path(dossier: Dossier) -> Path:
    return dossier_store().path_for(dossier.id)


def send_dossier(dossier: Dossier):
    """The issued PDF as a download. It names the complainant for some audiences, so no browser
    or proxy may keep a copy (send_file's own Cache-Control would otherwise allow that)."""
    subject = dossier.case.reference if dossier.case else dossier.business.slug
    response = send_file(dossier_path(dossier), mimetype="application/pdf", as_attachment=True,
                         download_name=f"{subject}-{dossier.audience}-dossier-{dossier.id}.pdf")
    response.headers.update({"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
    return response


def start_dossier(audience: Audience, actor: User | None, case: Case | None = None,
                  business: Business | None = None, with_originals: bool = False,
                  choices: Choices = NO_CHOICES) -> Dossier:
    dossier = Dossier(case=case, business=business, audience=audience.key, with_originals=with_originals,
                      with_photos=choices.with_photos, withheld_words="\n".join(choices.withheld_words) or None,
                      issued_by=actor, issued_by_label=actor.email if actor else "command line",
                      state=DossierState.RENDERING.value)
    db.session.add(dossier)
    db.session.flush()
    return dossier


def _common_context(dossier: Dossier, audience: Audience) -> dict:
    """Outside recipients see the newsroom's name, not the staff member's."""
    newsroom = current_app.config["NEWSROOM_NAME"]
    by = dossier.issued_by.display_name if dossier.issued_by and not audience.is_outside else newsroom
    return {"dossier": dossier, "audience": audience, "issued_at": utcnow(), "issued_by": by}


def render_dossier(dossier: Dossier) -> bytes:
    """Render the PDF for a dossier row and record it as issued. The caller commits."""
    audience = AUDIENCES[dossier.audience]
    if dossier.case is not None:
        cases = [dossier.case]
    else:
        cases = sorted(dossier.business.current_cases, key=lambda case: (case.date_received, case.id))
    ensure_photo_copies(item for case in cases for item in case.evidence)  # copies still queued
    choices = dossier_choices(dossier)
    contents = [case_content(case, audience, choices) for case in cases]
    evidence = [item for content in contents for item in content.evidence]
    # (file, the name it is attached under): the name as this audience may read it
    originals = [(item, content.attachment_name(item, content.evidence.index(item) + 1))
                 for content in contents for item in content.originals] if dossier.with_originals else []
    if dossier.case is not None:
        rendered = render_pdf("dossiers/case.html", evidence, originals, content=contents[0],
                              **_common_context(dossier, audience))
    else:
        pattern = complaint_pattern(cases)
        rendered = render_pdf("dossiers/business.html", evidence, originals, business=dossier.business,
                              contents=contents, pattern=pattern, chart=pattern.chart("Complaints received per month"),
                              **_common_context(dossier, audience))
    dossier_store().write(dossier.id, rendered.data)  # whole or not at all
    dossier.sha256 = hashlib.sha256(rendered.data).hexdigest()
    dossier.size, dossier.pages = len(rendered.data), rendered.pages
    dossier.state, dossier.issued_at = DossierState.READY.value, utcnow()
    subject = dossier.case or dossier.business
    audit.record("dossier.export", subject, actor=dossier.issued_by, actor_label=dossier.issued_by_label,
                 dossier=dossier.id, audience=audience.key, sha256=dossier.sha256, pages=dossier.pages,
                 with_originals=dossier.with_originals, with_photos=dossier.with_photos,
                 withheld_words=dossier.withheld_word_list)
    for item in evidence:
        audit.record("evidence.export", item, actor=dossier.issued_by, actor_label=dossier.issued_by_label,
                     via=f"dossier {dossier.id}", audience=audience.key)
    for case in cases:
        what = "This case's dossier" if dossier.case else f"The dossier of {dossier.business.name}"
        add_timeline(case, TimelineKind.DOSSIER,
                     f"{what} (#{dossier.id}, {audience.label}) was exported by {dossier.issued_by.display_name if dossier.issued_by else dossier.issued_by_label}; "
                     f"SHA-256 {dossier.sha256}.", dossier.issued_by)
    return rendered.data


def dossier_choices(dossier: Dossier) -> Choices:
    return Choices(tuple(dossier.withheld_word_list), dossier.with_photos)


def issue_now(dossier: Dossier) -> bytes:
    """Render in this request or command, committing the result."""
    data = render_dossier(dossier)
    db.session.commit()
    return data


def issue_in_background(dossier_id: int) -> None:
    """Large business dossiers render as a background job (investigations/jobs); the status page
    offers the file when ready. With DOSSIER_RENDERING 'inline' they render in this request."""
    if current_app.config["DOSSIER_RENDERING"] != "inline":
        from ..jobs.queue import submit

        submit("dossier.render", key=f"dossier:{dossier_id}", dossier_id=dossier_id)
        return
    dossier = db.session.get(Dossier, dossier_id)
    try:
        render_dossier(dossier)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        current_app.logger.exception("Rendering dossier %s failed", dossier_id)
        mark_failed(dossier_id, str(error))


STALE_RENDERING_MINUTES = 15


def mark_failed(dossier_id: int, reason: str) -> None:
    """Record that a dossier will not be issued; not while a job still means to render it (a
    queue that is slow, or a render being retried, is not a failure)."""
    from ..models import Job
    from ..models.jobs import UNFINISHED

    try:
        if db.session.scalar(select(Job.id).where(Job.key == f"dossier:{dossier_id}", Job.state.in_(UNFINISHED))
                             .limit(1)) is not None:
            return
        dossier = db.session.get(Dossier, dossier_id)
        dossier.state, dossier.error = DossierState.FAILED.value, reason[:2000]
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Could not record that dossier %s failed", dossier_id)


def give_up_if_stale(dossier: Dossier) -> None:
    """A dossier still 'rendering' long after it was asked for lost its worker (a restart): say so."""
    if dossier.state == DossierState.RENDERING.value and \
            utcnow() - dossier.requested_at > timedelta(minutes=STALE_RENDERING_MINUTES):
        mark_failed(dossier.id, "Rendering was interrupted (the server restarted). Please export it again.")


@dataclass
class Verification:
    sha256: str
    issued: Dossier | None  # the dossier this exact file is
    claimed: Dossier | None  # the dossier the file says it is, when it is not that exact file


def verify_copy(data: bytes) -> Verification:
    """Is this exact file a dossier the app issued? If not, which one does it claim to be?"""
    sha256 = hashlib.sha256(data).hexdigest()
    issued = db.session.scalar(select(Dossier).where(Dossier.sha256 == sha256))
    claimed = None
    if issued is None:
        claimed_id = _claimed_dossier_id(data)
        claimed = db.session.get(Dossier, claimed_id) if claimed_id else None
        if claimed is not None and not claimed.is_ready:
            claimed = None  # it names a dossier that was never issued
    return Verification(sha256, issued, claimed)


def _claimed_dossier_id(data: bytes) -> int | None:
    """The dossier number in the PDF's keywords ("dossier-42"), if the file still says one."""
    try:
        keywords = str(PdfReader(io.BytesIO(data), strict=False).metadata.get("/Keywords", ""))
    except Exception:  # a damaged or hostile file: it simply claims nothing
        return None
    match = re.search(r"\bdossier-(\d{1,12})\b", keywords)
    return int(match.group(1)) if match else None
