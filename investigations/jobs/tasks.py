"""The jobs: evidence text, dossier renders, and the scheduled checks and alerts."""
import logging
from dataclasses import dataclass

from huey import crontab

from ..extensions import db
from ..models import Dossier, Evidence, utcnow
from . import alerts
from .queue import PermanentFailure, _app, handler, huey, requeue_stale, submit

log = logging.getLogger(__name__)


# --- Work started by requests ----------------------------------------------------------------


@handler("evidence.extract", "Read evidence text (and OCR)")
def extract_evidence(evidence_id: int) -> str:
    """Safe to run twice: it reads the stored file again and overwrites the text and state."""
    from ..evidence.services import run_extraction

    run_extraction(evidence_id)
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        return f"evidence #{evidence_id} no longer exists"
    return f"evidence #{evidence_id}: {evidence.extraction_state}" + (
        f" ({evidence.extraction_method})" if evidence.extraction_method else "")


@handler("evidence.photo_copies", "Make a photo's thumbnail and print copy")
def photo_copies(sha256: str) -> str:
    """Safe to run twice: each copy is written again and replaces the last one whole."""
    from ..evidence.services import run_photo_copies, store

    if not store().exists(sha256):
        raise PermanentFailure(f"The photo {sha256} is not in the evidence store.")
    if run_photo_copies(sha256):
        return f"copies of {sha256[:12]} made"
    return f"{sha256[:12]} could not be decoded: no preview"


def _dossier_failed(dossier_id: int, error: str) -> None:
    from ..dossiers.services import mark_failed

    mark_failed(dossier_id, error)


@handler("dossier.render", "Render a business dossier", max_attempts=3, on_failure=_dossier_failed)
def render_dossier_job(dossier_id: int) -> str:
    """Safe to run twice: a dossier already issued is left as it is; otherwise the PDF is written
    again (atomically, under the same name) and the row, audit events and timeline entries are
    committed together, once."""
    from ..dossiers.render import DossierError
    from ..dossiers.services import render_dossier

    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None:
        return f"dossier #{dossier_id} no longer exists"
    if dossier.is_ready:
        return f"dossier #{dossier_id} was already issued"
    try:
        render_dossier(dossier)
    except DossierError as error:  # a missing evidence file: another attempt would not help
        raise PermanentFailure(str(error)) from error
    db.session.commit()
    return f"dossier #{dossier_id}: {dossier.pages} pages"


# --- Scheduled -------------------------------------------------------------------------------


@handler("saved_searches.check", "Check saved searches for new matches")
def check_saved_searches() -> str:
    return alerts.check_saved_searches()


@handler("alerts.digest", "Mail the daily digest of saved-search matches")
def send_digests() -> str:
    alerts.check_saved_searches()  # the digest includes what the last hour brought
    return alerts.send_digests()


@handler("alerts.reply_reminders", "Mail right-of-reply reminders")
def send_reply_reminders() -> str:
    return alerts.send_reply_reminders()


@handler("integrity.check", "Verify the audit trail and every evidence file", max_attempts=2)
def integrity_check() -> str:
    problems, summary = alerts.integrity_problems()
    if problems:
        body = ("The nightly integrity check found problems:\n\n" + "\n".join(f"- {p}" for p in problems)
                + f"\n\n{summary}. Run `flask audit verify` and `flask evidence verify` on the server for "
                  "details, and restore altered or missing files from a backup.\n")
        alerts.alert_admins(f"Integrity check FAILED: {len(problems)} problem{'s' if len(problems) != 1 else ''}",
                            body)
        db.session.commit()
        raise PermanentFailure(f"{len(problems)} problems: " + " ".join(problems))
    return f"OK: {summary}"


def remove_abandoned_files() -> str:
    """Temporary files whose writer crashed, and import uploads never finished (they hold
    complainants' details): run at each consumer start and hourly, never by the app factory."""
    from ..imports.uploads import remove_expired
    from ..storage import evidence_store

    temporary, uploads = evidence_store().clean_stale_temp(), remove_expired()
    return f"Removed {temporary} abandoned temporary files and {uploads} unfinished import uploads."


@handler("files.clean", "Remove abandoned temporary files and import uploads")
def clean_abandoned_files() -> str:
    return remove_abandoned_files()


@dataclass(frozen=True)
class Schedule:
    kind: str
    when: str  # for people
    crontab: object
    period: str  # strftime of the period a run belongs to (one run per period)


SCHEDULES = [
    Schedule("saved_searches.check", "hourly", crontab(minute="5"), "%Y-%m-%dT%H"),
    Schedule("alerts.digest", "daily at 07:00 UTC", crontab(minute="0", hour="7"), "%Y-%m-%d"),
    Schedule("alerts.reply_reminders", "daily at 07:00 UTC", crontab(minute="0", hour="7"), "%Y-%m-%d"),
    Schedule("integrity.check", "nightly at 02:30 UTC", crontab(minute="30", hour="2"), "%Y-%m-%d"),
    Schedule("files.clean", "hourly", crontab(minute="35"), "%Y-%m-%dT%H"),
]


def submit_scheduled(schedule: Schedule, key: str | None = None):
    """Queue this period's run (once: a second trigger in the same period does nothing)."""
    return submit(schedule.kind, key=key or f"{schedule.kind}@{utcnow():{schedule.period}}", once=True)


def _periodic(schedule: Schedule):
    def trigger():
        with _app().app_context():
            submit_scheduled(schedule)
    trigger.__name__ = f"schedule_{schedule.kind.replace('.', '_')}"
    return huey.periodic_task(schedule.crontab, name=trigger.__name__)(trigger)


for _schedule in SCHEDULES:
    _periodic(_schedule)


@huey.periodic_task(crontab(minute="*/5"), name="requeue_stale_jobs")
def requeue_stale_jobs():
    with _app().app_context():
        requeued = requeue_stale()
        if requeued:
            log.warning("Queued again %d jobs that had stalled: %s", len(requeued), requeued)
