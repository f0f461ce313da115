"""After the files and the database are back: migrate, remake what is derived (photo copies, the
search index), check the evidence and the audit chain, and record the restore."""
from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..storage import evidence_store
from .progress import Progress
from .restore import RestoreReport


def finish_restore(report: RestoreReport, progress: Progress) -> None:
    from alembic import command

    from .. import audit
    from ..evidence.integrity import verify_all
    from ..evidence.services import make_image_copies
    from ..models import Evidence
    from ..search import maintenance
    from ..search.sync import process_queue

    with progress("Applying migrations (flask db upgrade)", None):
        command.upgrade(current_app.extensions["migrate"].migrate.get_config(), "head")
    db.engine.dispose()

    store = evidence_store()
    photos = db.session.scalars(select(Evidence.sha256).where(Evidence.has_thumbnail.is_(True)).distinct()).all()
    for sha256 in photos:
        if store.exists(sha256) and not all(store.derived_path(sha256, variant).is_file() for variant in store.VARIANTS):
            make_image_copies(sha256)
            report.photo_copies_remade += 1

    current_app.extensions.pop("search_backend", None)  # a new database: no cached searcher of the old one
    with progress("Rebuilding the search index", maintenance.case_count()) as update:
        report.indexed = maintenance.reindex(progress=update)
    while process_queue(limit=500):  # updates queued in the backed-up database are covered by the rebuild
        pass

    total = int(db.session.scalar(select(func.coalesce(func.sum(Evidence.size), 0))))
    with progress("Re-hashing the restored evidence", total) as update:
        report.evidence_checked, report.evidence_problems = verify_all(progress=update)

    events = report.manifest["audit_chain"].get("seq", 0)
    with progress("Checking the audit chain", events) as update:
        done = [0]

        def advance(checked):
            update(checked - done[0])
            done[0] = checked

        report.chain = audit.verify_chain(progress=advance)

    audit.record("backup.restore", None, actor_label="command line", backup_created_at=report.manifest["created_at"],
                 backup_audit_chain_seq=events, backup_audit_chain_head=report.manifest["audit_chain"].get("head_hash"),
                 replaced=report.replaced.counts, evidence_problems=len(report.evidence_problems),
                 audit_chain_ok=report.chain.ok)
    db.session.commit()
