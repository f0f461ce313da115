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
from ..cases.services import add_timeline
from ..evidence.services import ensure_photo_copies
from ..extensions import db
from ..models import Business, Case, Dossier, DossierState, Evidence, TimelineEntry, User, utcnow
from ..models.cases import PUBLIC_KINDS, TimelineKind
from ..newsroom import current_newsroom
from ..storage import EvidenceStore, dossier_store
from ..template_helpers import local_today
from .archive import CASE_DATA_NAME, MANIFEST_NAME, ManifestCheck, case_data_json, check_manifest, manifest_csv
from .audiences import (
    AUDIENCES,
    NO_CHOICES,
    Audience,
    CaseContent,
    Choices,
    case_content,
    left_out_once_per_kind,
    listed_contents,
)
from .case_list import case_list
from .pattern import dossier_pattern
from .render import DataFile, DossierError, attachment_name, render_pdf
from .selection import Selection, chosen_cases, load_for_full_text, printed_in_full


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
                  choices: Choices = NO_CHOICES, recipient: str | None = None,
                  selection: Selection | None = None) -> Dossier:
    dossier = Dossier(case=case, business=business, audience=audience.key, with_originals=with_originals,
                      with_photos=choices.with_photos, withheld_words="\n".join(choices.withheld_words) or None,
                      issued_by=actor, issued_by_label=actor.email if actor else "command line",
                      recipient=" ".join((recipient or "").split())[:200] or None,
                      selection=selection.as_dict() if business is not None and selection is not None else None,
                      state=DossierState.RENDERING.value)
    db.session.add(dossier)
    db.session.flush()
    return dossier


@dataclass
class DossierParts:
    """What one dossier prints: every case chosen, and of those the ones printed in full."""

    cases: list[Case]
    full: list[CaseContent]  # printed in full (a case dossier: its one case)
    table: list[CaseContent]  # every case, in order, for the one-line table (business dossiers)

    @property
    def evidence(self) -> list:
        return [item for content in self.full for item in content.evidence]


def dossier_parts(dossier: Dossier) -> DossierParts:
    audience, choices = AUDIENCES[dossier.audience], dossier_choices(dossier)
    if dossier.case is not None:
        content = case_content(dossier.case, audience, choices)
        return DossierParts([dossier.case], [content], [content])
    selection = Selection.from_dict(dossier.selection)
    cases = chosen_cases(dossier.business, selection)
    if not cases:
        raise DossierError("No case against this business matches what you chose; widen the dates, statuses "
                           "or kinds. No dossier was issued.")
    in_full = printed_in_full(cases, selection)
    load_for_full_text(in_full)
    full = [case_content(case, audience, choices) for case in in_full]
    by_id = {content.case.id: content for content in full}
    by_id |= {content.case.id: content for content in listed_contents(
        [case for case in cases if case.id not in by_id], audience, choices)}
    return DossierParts(cases, full, [by_id[case.id] for case in cases])


def _common_context(dossier: Dossier, audience: Audience) -> dict:
    """Outside recipients see the newsroom's name, not the staff member's."""
    newsroom = current_newsroom()
    by = dossier.issued_by.display_name if dossier.issued_by and not audience.is_outside else newsroom.name
    return {"dossier": dossier, "audience": audience, "issued_at": utcnow(), "issued_by": by,
            "newsroom": newsroom}


@dataclass
class DossierDocument:
    """Everything WeasyPrint is given for one dossier: its template and context, the evidence it may
    embed, the originals and the data files it attaches."""

    template: str
    evidence: list
    originals: list
    data_files: list[DataFile]
    context: dict
    parts: DossierParts


def dossier_document(dossier: Dossier) -> DossierDocument:
    audience = AUDIENCES[dossier.audience]
    parts = dossier_parts(dossier)
    ensure_photo_copies(parts.evidence)  # copies still queued
    # (file, the name it is attached under): the name as this audience may read it
    originals = [(item, content.attachment_name(item, content.evidence.index(item) + 1))
                 for content in parts.full for item in content.originals] if dossier.with_originals else []
    attached = {item.id: attachment_name(item, shown) for item, shown in originals}
    context = _common_context(dossier, audience)
    full_ids = {content.case.id for content in parts.full}
    listed = [content for content in parts.table if content.case.id not in full_ids]
    data_files = [
        DataFile(MANIFEST_NAME, manifest_csv(parts.full, attached),
                 "Every evidence file this dossier lists: name as shown here, type, size and SHA-256"),
        DataFile(CASE_DATA_NAME, case_data_json(dossier, audience, context["issued_by"], context["issued_at"],
                                                parts.full, listed),
                 "The case data printed in this dossier, as JSON"),
    ]
    if dossier.case is not None:
        return DossierDocument("dossiers/case.html", parts.evidence, originals, data_files,
                               {**context, "content": parts.full[0]}, parts)
    pattern = dossier_pattern(parts.cases, local_today())
    context |= {"business": dossier.business, "contents": parts.full,
                "case_list": case_list(parts.table), "pattern": pattern,
                "chart": pattern.chart("Complaints received per month"),
                "selection": Selection.from_dict(dossier.selection), "left_out": left_out_once_per_kind(parts.table)}
    return DossierDocument("dossiers/business.html", parts.evidence, originals, data_files, context, parts)


def render_dossier(dossier: Dossier) -> bytes:
    """Render the PDF/A file for a dossier row and record it as issued. The caller commits."""
    audience = AUDIENCES[dossier.audience]
    document = dossier_document(dossier)
    parts = document.parts
    rendered = render_pdf(document.template, document.evidence, document.originals, document.data_files,
                          **document.context)
    dossier_store().write(dossier.id, rendered.data)  # whole or not at all
    dossier.sha256 = hashlib.sha256(rendered.data).hexdigest()
    dossier.size, dossier.pages = len(rendered.data), rendered.pages
    dossier.state, dossier.issued_at = DossierState.READY.value, utcnow()
    subject = dossier.case or dossier.business
    audit.record("dossier.export", subject, actor=dossier.issued_by, actor_label=dossier.issued_by_label,
                 dossier=dossier.id, audience=audience.key, sha256=dossier.sha256, pages=dossier.pages,
                 recipient=dossier.recipient, with_originals=dossier.with_originals, with_photos=dossier.with_photos,
                 withheld_words=dossier.withheld_word_list, cases=len(parts.cases), in_full=len(parts.full))
    for item in parts.evidence:
        audit.record("evidence.export", item, actor=dossier.issued_by, actor_label=dossier.issued_by_label,
                     via=f"dossier {dossier.id}", audience=audience.key)
    exporter = dossier.issued_by.display_name if dossier.issued_by else dossier.issued_by_label
    recipient = f" for {dossier.recipient}" if dossier.recipient else ""
    what = "This case's dossier" if dossier.case else f"The dossier of {dossier.business.name}"
    body = f"{what} (#{dossier.id}, {audience.label}{recipient}) was exported by {exporter}; SHA-256 {dossier.sha256}."
    if dossier.case is not None:
        add_timeline(dossier.case, TimelineKind.DOSSIER, body, dossier.issued_by)
    else:  # a thousand cases: add the entries without loading each case's timeline first
        db.session.add_all(TimelineEntry(case_id=case.id, kind=TimelineKind.DOSSIER.value, body=body,
                                         author=dossier.issued_by, internal=TimelineKind.DOSSIER not in PUBLIC_KINDS)
                           for case in parts.cases)
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
    manifest: ManifestCheck | None = None  # its attached evidence manifest against the stored evidence


def _sizes_on_record(hashes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(hashes), 1000):
        rows = db.session.execute(select(Evidence.sha256, Evidence.size)
                                  .where(Evidence.sha256.in_(hashes[start:start + 1000])))
        found.update((sha256, size) for sha256, size in rows)
    return found


def verify_copy(data: bytes) -> Verification:
    """Is this exact file a dossier the app issued? If not, which one does it claim to be? And does
    the evidence manifest inside it still match the stored evidence?"""
    manifest = check_manifest(data, EvidenceStore(current_app.config["EVIDENCE_DIR"]), _sizes_on_record)
    sha256 = hashlib.sha256(data).hexdigest()
    issued = db.session.scalar(select(Dossier).where(Dossier.sha256 == sha256))
    claimed = None
    if issued is None:
        claimed_id = _claimed_dossier_id(data)
        claimed = db.session.get(Dossier, claimed_id) if claimed_id else None
        if claimed is not None and not claimed.is_ready:
            claimed = None  # it names a dossier that was never issued
    return Verification(sha256, issued, claimed, manifest)


def _claimed_dossier_id(data: bytes) -> int | None:
    """The dossier number in the PDF's keywords ("dossier-42"), if the file still says one."""
    try:
        keywords = str(PdfReader(io.BytesIO(data), strict=False).metadata.get("/Keywords", ""))
    except Exception:  # a damaged or hostile file: it simply claims nothing
        return None
    match = re.search(r"\bdossier-(\d{1,12})\b", keywords)
    return int(match.group(1)) if match else None
