"""`flask evidence …`: check and process stored evidence files."""
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from ..extensions import db
from ..models import Evidence, ExtractionState

evidence_cli = AppGroup("evidence", help="Check and process evidence files.")


@evidence_cli.command("verify")
def verify_evidence_command():
    """Re-hash every stored evidence file (and the files of public submissions not yet accepted); report
    missing or altered ones and exit 1 if any."""
    from .integrity import verify_all, verify_total_bytes

    with click.progressbar(length=verify_total_bytes(), label="Re-hashing evidence", file=sys.stderr,
                           item_show_func=lambda _: None) as bar:
        checked, problems = verify_all(progress=bar.update)
    for problem in problems:
        click.echo(problem.message, err=True)
    if problems:
        click.echo(f"{len(problems)} of {checked} evidence files are missing or altered.", err=True)
        sys.exit(1)
    click.echo(f"OK: {checked} evidence files, every one matches its SHA-256.")


@evidence_cli.command("extract")
@click.option("--all", "everything", is_flag=True, help="Read every file again, not only pending and failed ones.")
def extract_evidence_command(everything):
    """Read the text of evidence files (those still pending or failed, by default)."""
    from .services import run_extraction

    query = select(Evidence.id).order_by(Evidence.id)
    if not everything:
        query = query.where(Evidence.extraction_state.in_([ExtractionState.PENDING.value,
                                                           ExtractionState.FAILED.value]))
    ids = db.session.scalars(query).all()
    with click.progressbar(ids, label="Reading evidence text", file=sys.stderr) as bar:
        for evidence_id in bar:
            run_extraction(evidence_id)
    states = db.session.execute(select(Evidence.extraction_state, func.count()).where(Evidence.id.in_(ids))
                                .group_by(Evidence.extraction_state)).all()
    click.echo("Done: " + (", ".join(f"{n} {state}" for state, n in states) or "nothing to read") + ".")


@evidence_cli.command("print-copies")
@click.option("--all", "everything", is_flag=True, help="Remake every photo's copies, not only outdated ones.")
@click.option("--queue", is_flag=True, help="Queue them for the jobs consumer (flask jobs consumer) instead.")
def print_copies_command(everything, queue):
    """Remake the print copies of photos (for PDF dossiers) that are missing or larger than the app
    now makes them, e.g. after an upgrade that made print copies smaller."""
    from .services import print_copies_to_remake, run_photo_copies, schedule_photo_copies

    hashes = print_copies_to_remake(everything)
    if not hashes:
        click.echo("OK: every photo's print copy is up to date.")
        return
    if queue:
        schedule_photo_copies(hashes)
        db.session.commit()
        click.echo(f"Queued {len(hashes)} photos; the jobs consumer makes their copies.")
        return
    failed = 0
    with click.progressbar(hashes, label="Making print copies", file=sys.stderr) as bar:
        for sha256 in bar:
            failed += 0 if run_photo_copies(sha256) else 1
    click.echo(f"Made the copies of {len(hashes) - failed} photos" +
               (f"; {failed} could not be decoded and have no preview." if failed else "."))
