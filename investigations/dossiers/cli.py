"""`flask dossier …`: export dossiers and check copies of them from the terminal."""
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db

dossier_cli = AppGroup("dossier", help="Export PDF dossiers and check copies of them.")


@dossier_cli.command("export")
@click.argument("case_ref", required=False)
@click.option("--business", "business_name", help="A dossier of every case against this business instead.")
@click.option("--audience", type=click.Choice(["internal", "news", "bbb"]), default="bbb", show_default=True)
@click.option("--attach-originals", is_flag=True, help="Attach the original evidence files inside the PDF.")
@click.option("--recipient", help="Who receives it (printed on the cover, kept in the list of issued dossiers).")
@click.option("--full", "full_count", type=click.IntRange(0, 200), default=20, show_default=True,
              help="A business dossier prints this many of the most recent cases in full.")
@click.option("--tagged", "full_tag", default="", help="A business dossier prints the cases with this tag in full instead.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def export_dossier_command(case_ref, business_name, audience, attach_originals, recipient, full_count, full_tag,
                           output):
    """Export the dossier of CASE_REF (or of --business NAME) to a PDF file."""
    import shutil
    import time

    from ..businesses.services import find_business
    from ..models import Case
    from .audiences import AUDIENCES
    from .render import DossierError
    from .services import dossier_path, issue_now, start_dossier

    if bool(case_ref) == bool(business_name):
        raise click.UsageError("Give a case reference or --business NAME (one of the two).")
    try:
        open(output, "ab").close()  # can we write there? better to know before a dossier is issued
    except OSError as error:
        raise click.ClickException(f"Cannot write {output}: {error.strerror}.") from error
    case = business = None
    if case_ref:
        case = db.session.scalar(select(Case).where(Case.reference == case_ref.strip().upper()))
        if case is None:
            raise click.ClickException(f"No case {case_ref}.")
    else:
        business = find_business(business_name)
        if business is None:
            raise click.ClickException(f"No business called {business_name}.")
        if not business.current_cases:
            raise click.ClickException(f"There are no cases against {business.name} yet.")
    from .selection import Selection

    dossier = start_dossier(AUDIENCES[audience], None, case=case, business=business,
                            with_originals=attach_originals, recipient=recipient,
                            selection=Selection(full_count=full_count, full_tag=full_tag.strip()))
    click.echo(f"Rendering dossier #{dossier.id} of {dossier.subject} for {AUDIENCES[audience].label}…", err=True)
    started = time.perf_counter()
    try:
        issue_now(dossier)
    except DossierError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    shutil.copyfile(dossier_path(dossier), output)
    click.echo(f"Wrote {output}: {dossier.pages} pages, {dossier.size / 2**20:.1f} MB, "
               f"{time.perf_counter() - started:.1f} s. SHA-256 {dossier.sha256}")


@dossier_cli.command("verify")
@click.argument("pdf", type=click.File("rb"))
def verify_dossier_command(pdf):
    """Say whether PDF is exactly a dossier the app issued, and whether the evidence its attached
    manifest lists is stored unaltered; exit 1 if either is not so."""
    from ..template_helpers import format_datetime
    from .audiences import AUDIENCES
    from .services import verify_copy

    result = verify_copy(pdf.read())
    manifest = result.manifest
    if manifest is not None and manifest.found:
        click.echo(f"EVIDENCE: the attached manifest lists {manifest.files} file(s); "
                   + ("each is stored, unaltered." if manifest.ok else f"{len(manifest.problems)} problem(s):"),
                   err=not manifest.ok)
        for problem in manifest.problems:
            click.echo(f"  {problem}", err=True)
    if result.issued:
        d = result.issued
        click.echo(f"GENUINE: dossier #{d.id} of {d.subject}, issued {format_datetime(d.issued_at)} by "
                   f"{d.issued_by_label} for {AUDIENCES[d.audience].label}"
                   f"{f' ({d.recipient})' if d.recipient else ''}; unaltered.")
        if manifest is not None and manifest.problems:
            sys.exit(1)
        return
    if result.claimed:
        d = result.claimed
        click.echo(f"ALTERED: the file says it is dossier #{d.id} of {d.subject} (issued by {d.issued_by_label} for "
                   f"{AUDIENCES[d.audience].label}), but its content differs from what was issued.", err=True)
    else:
        click.echo("NOT ISSUED: no dossier with this SHA-256 was issued by this app.", err=True)
    sys.exit(1)
