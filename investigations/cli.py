"""Terminal commands: `flask users …`, `flask audit …`."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from . import audit
from .auth.accounts import AccountError, create_user, ensure_first_admin
from .extensions import db
from .models import AuditEvent, Evidence, ExtractionState
from .models.users import Role

users_cli = AppGroup("users", help="Manage accounts.")
audit_cli = AppGroup("audit", help="Check the audit trail.")
evidence_cli = AppGroup("evidence", help="Check and process evidence files.")
dossier_cli = AppGroup("dossier", help="Export PDF dossiers and check copies of them.")
search_cli = AppGroup("search", help="Build and check the full-text search index.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The name shown in the app.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.REPORTER.value, show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def create_user_command(email, name, role, password_stdin):
    """Create an account. The password is prompted for, or read with --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, _ = create_user(email, name, role, password=password)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@users_cli.command("ensure-admin")
def ensure_admin_command():
    """On an empty database, create the first admin and print a one-time password once."""
    result = ensure_first_admin(current_app.config["ADMIN_EMAIL"])
    if result is None:
        return
    user, password = result
    db.session.commit()
    line = "=" * 64
    click.secho(f"\n{line}\n First admin account created\n   e-mail:   {user.email}\n"
                f"   password: {password}\n This password is shown only now; you will be asked to change it\n"
                f" at first sign-in.\n{line}\n", fg="yellow", bold=True)


@audit_cli.command("verify")
def verify_audit_command():
    """Walk the audit hash chain and report the first broken link; exit 1 if there is one."""
    total = db.session.query(AuditEvent).count()
    with click.progressbar(length=total, label="Checking audit events", file=sys.stderr) as bar:
        last = [0]

        def advance(checked):
            bar.update(checked - last[0])
            last[0] = checked

        report = audit.verify_chain(progress=advance)
    if report.ok:
        click.echo(f"OK: {report.checked} audit events, chain intact.")
        return
    where = f" at event #{report.broken_seq}" if report.broken_seq else ""
    click.echo(f"BROKEN{where}: {report.problem}. {report.checked} events before it are intact.", err=True)
    broken = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == report.broken_seq)) if report.broken_seq else None
    if broken is not None:  # what the altered (or first unlinked) event now says
        what = f"{broken.action} {broken.object_type or ''} {broken.object_id or ''}".strip()
        click.echo(f"Event #{broken.seq} as stored now: {broken.created_at:%Y-%m-%d %H:%M:%S} UTC, "
                   f"{broken.actor_label}, {what}.", err=True)
    sys.exit(1)


@evidence_cli.command("verify")
def verify_evidence_command():
    """Re-hash every stored evidence file; report missing or altered ones and exit 1 if any."""
    from .evidence.services import verify_all

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
    from .evidence.services import run_extraction

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

    from .businesses.services import find_business
    from .dossiers.audiences import AUDIENCES
    from .dossiers.render import DossierError
    from .dossiers.services import dossier_path, issue_now, start_dossier
    from .models import Case

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
    from .dossiers.audiences import AUDIENCES
    from .dossiers.services import verify_copy

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


@search_cli.command("reindex")
def reindex_command():
    """Rebuild the index from the database aside, then swap it in (search stays online)."""
    from .search import maintenance

    total = maintenance.case_count()
    with click.progressbar(length=total, label="Indexing cases", file=sys.stderr) as bar:
        count = maintenance.reindex(progress=bar.update)
    click.echo(f"Indexed {count} cases; the new index is in use.")


@search_cli.command("check")
@click.option("--repair", is_flag=True, help="Rewrite the missing and stale documents.")
def check_search_command(repair):
    """Report cases missing from or stale in the index; exit 1 if there are any (and not repaired)."""
    from .search import maintenance

    with click.progressbar(length=maintenance.case_count(), label="Checking the index", file=sys.stderr) as bar:
        report = maintenance.check(progress=bar.update, repair=repair)
    if report.ok:
        click.echo("OK: every case is in the index and up to date.")
        return
    click.echo(f"{len(report.missing)} missing, {len(report.stale)} stale, {len(report.orphaned)} no longer in "
               f"the database" + ("; repaired." if repair else "."), err=not repair)
    for label, ids in (("missing", report.missing), ("stale", report.stale), ("orphaned", report.orphaned)):
        if ids:
            click.echo(f"  {label}: case ids {', '.join(map(str, ids[:20]))}{' …' if len(ids) > 20 else ''}",
                       err=not repair)
    if not repair:
        sys.exit(1)


@search_cli.command("indexer")
def indexer_command():
    """Run the single index writer: apply queued changes to the index as they come, until stopped."""
    import signal
    import threading

    from .search.indexer import IndexerAlreadyRunning, run_indexer

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    app = current_app._get_current_object()
    click.echo(f"Indexer running ({app.config['SEARCH_BACKEND']}); Ctrl-C stops it.", err=True)
    try:
        run_indexer(app, stop)
    except IndexerAlreadyRunning as error:
        raise click.ClickException(str(error)) from error


@search_cli.command("sync")
def sync_search_command():
    """Apply index updates still waiting in the queue (after the index was busy or down)."""
    from .search.sync import process_queue

    done = 0
    while (batch := process_queue(limit=500)):
        done += batch
    click.echo(f"Applied {done} queued index updates.")


def init_app(app):
    from .api.cli import token_command
    from .backup_cli import backup_cli
    from .demo import demo_cli
    from .imports.cli import import_cli
    from .jobs.cli import jobs_cli

    users_cli.add_command(token_command)
    app.cli.add_command(import_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(evidence_cli)
    app.cli.add_command(dossier_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(jobs_cli)
