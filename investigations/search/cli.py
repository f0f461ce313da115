"""`flask search …`: build, check and feed the full-text index."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup

search_cli = AppGroup("search", help="Build and check the full-text search index.")


@search_cli.command("reindex")
def reindex_command():
    """Rebuild the index from the database aside, then swap it in (search stays online)."""
    from . import maintenance

    total = maintenance.case_count()
    with click.progressbar(length=total, label="Indexing cases", file=sys.stderr) as bar:
        count = maintenance.reindex(progress=bar.update)
    click.echo(f"Indexed {count} cases; the new index is in use.")


@search_cli.command("check")
@click.option("--repair", is_flag=True, help="Rewrite the missing and stale documents.")
def check_search_command(repair):
    """Report cases missing from or stale in the index; exit 1 if there are any (and not repaired)."""
    from . import maintenance

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

    from .indexer import IndexerAlreadyRunning, run_indexer

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
    from .sync import process_queue

    done = 0
    while (batch := process_queue(limit=500)):
        done += batch
    click.echo(f"Applied {done} queued index updates.")
