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
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def export_dossier_command(case_ref, business_name, audience, attach_originals, output):
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
    dossier = start_dossier(AUDIENCES[audience], None, case=case, business=business,
                            with_originals=attach_originals)
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
    """Say whether PDF is exactly a dossier the app issued; exit 1 if it is not."""
    from .audiences import AUDIENCES
    from .services import verify_copy

    result = verify_copy(pdf.read())
    if result.issued:
        d = result.issued
        click.echo(f"GENUINE: dossier #{d.id} of {d.subject}, issued {d.issued_at:%Y-%m-%d %H:%M} UTC by "
                   f"{d.issued_by_label} for {AUDIENCES[d.audience].label}; unaltered.")
        return
    if result.claimed:
        d = result.claimed
        click.echo(f"ALTERED: the file says it is dossier #{d.id} of {d.subject} (issued by {d.issued_by_label} for "
                   f"{AUDIENCES[d.audience].label}), but its content differs from what was issued.", err=True)
    else:
        click.echo("NOT ISSUED: no dossier with this SHA-256 was issued by this app.", err=True)
    sys.exit(1)
