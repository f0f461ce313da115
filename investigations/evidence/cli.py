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
    """Re-hash every stored evidence file; report missing or altered ones and exit 1 if any."""
    from .services import verify_all

    total = int(db.session.scalar(select(func.coalesce(func.sum(Evidence.size), 0))))
    with click.progressbar(length=total, label="Re-hashing evidence", file=sys.stderr,
                           item_show_func=lambda _: None) as bar:
        checked, problems = verify_all(progress=bar.update)
    for problem in problems:
        evidence = problem.evidence
        click.echo(f"{problem.problem.upper()}: evidence #{evidence.id} “{evidence.original_name}” of "
                   f"{evidence.case.reference}, expected SHA-256 {evidence.sha256}", err=True)
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
