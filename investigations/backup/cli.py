"""`flask backup create|verify|restore DIR`: the terminal side of the backup package."""
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup

from . import BackupError, create_backup, describe_counts, restore_backup, verify_backup
from .manifest import NUMBERED

backup_cli = AppGroup("backup", help="Back up and restore the database, evidence files, dossiers and letters.")


@contextmanager
def progress_bars(label, total):
    """Progress on standard error: a bar when the length is known, else a line saying what runs."""
    if total is None:
        click.echo(f"{label}…", err=True)
        yield lambda amount=1: None
        return
    with click.progressbar(length=max(total, 0), label=label, file=sys.stderr,
                           item_show_func=lambda _: None) as bar:
        yield bar.update


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"


def _summary(manifest: dict) -> str:
    counts, chain = manifest["counts"], manifest["audit_chain"]
    return (f"{manifest['database']['kind']} database at migration {manifest['database'].get('migration_revision')}: "
            f"{describe_counts(counts)}; {_count(counts.get('evidence files', 0), 'evidence file')}, "
            f"{_count(counts.get('issued dossiers', 0), 'issued dossier')}, "
            f"{_count(counts.get('right-of-reply letters', 0), 'right-of-reply letter')}; audit chain head #{chain.get('seq')} "
            f"{chain.get('head_hash')}")


def _count(number: int, singular: str) -> str:
    return f"{number} {singular}" if number == 1 else f"{number} {singular}s"


@backup_cli.command("create")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--copy", "copy_files", is_flag=True,
              help="Copy the evidence, dossier and letter files even where they could be hard-linked "
                   "(for a backup that will be moved to other storage).")
def create_command(directory, copy_files):
    """Write a consistent backup into DIRECTORY (new or empty) while the app keeps running.

    The database is copied in one snapshot (SQLite's online backup API, or pg_dump), then the
    evidence files (with those of public submissions in triage), dossiers and right-of-reply letters
    its rows refer to, hashed into DIRECTORY/manifest.json. Evidence
    files are hard-linked when DIRECTORY is on the same filesystem (they are never changed in
    place), else copied. Exits 1 if files were missing or altered in the live store.
    """
    try:
        report = create_backup(directory, progress=progress_bars, link=not copy_files)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    manifest = report.manifest
    click.echo(f"Backup written to {report.directory}: {len(manifest['files'])} files, {_size(report.total_bytes)} "
               f"({report.linked} hard-linked, {report.copied} copied).")
    click.echo(f"  {_summary(manifest)}")
    if report.problems:
        for problem in report.problems:
            click.echo(f"WARNING: {problem['message']}", err=True)
        click.echo(f"The backup is complete except for the {len(report.problems)} file(s) above.", err=True)
        sys.exit(1)


@backup_cli.command("verify")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
def verify_command(directory):
    """Check a backup: every file in DIRECTORY's manifest present with its SHA-256, nothing else
    there, and (SQLite) every evidence row's file in the backup. Exits 1 on any problem."""
    report = verify_backup(directory, progress=progress_bars)
    for problem in report.problems:
        click.echo(problem, err=True)
    for problem in report.recorded_problems:
        click.echo(f"NOTE (recorded when the backup was made): {problem['message']}", err=True)
    if not report.ok:
        click.echo(f"FAILED: {len(report.problems)} problem(s) in the backup in {directory}.", err=True)
        sys.exit(1)
    manifest = report.manifest
    click.echo(f"OK: {report.files} files, {_size(report.bytes)}, every one matches the manifest. Backup made "
               f"{manifest['created_at']} by version {manifest['app'].get('version')}.")
    click.echo(f"  {_summary(manifest)}")


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore_command(directory, force):
    """Restore the backup in DIRECTORY into the configured database, EVIDENCE_DIR, DOSSIER_DIR and LETTER_DIR.

    Stop the app first (every web server, worker and cron job): the database is replaced under it.
    The backup is verified first and nothing is changed if any hash fails. A database that holds
    data is refused unless --force; the refusal says what would be replaced. Afterwards the
    migrations are applied, the search index is rebuilt, and the evidence files and the audit
    chain are checked. Exits 1 if that check finds a problem.
    """
    try:
        report = restore_backup(directory, progress=progress_bars, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    manifest = report.manifest
    click.echo(f"Restored the backup made {manifest['created_at']} into {report.replaced.where}.")
    if not report.replaced.empty:
        click.echo(f"  Replaced: {report.replaced.describe()}.")
    if report.database_kept_as:
        click.echo(f"  The previous database is kept as {report.database_kept_as}.")
    if report.tables_dropped:
        click.echo(f"  Tables of migrations newer than the backup were dropped, then made again by the migrations: "
                   f"{', '.join(report.tables_dropped)}.")
    click.echo(f"  Evidence files: {report.evidence_restored} restored, {report.evidence_present} already present"
               + (f", {len(report.evidence_repaired)} damaged ones replaced (kept in {report.evidence_set_aside})"
                  if report.evidence_repaired else "") + ".")
    click.echo(f"  Photo copies: {report.photo_copies_restored} restored, {report.photo_copies_remade} made again.")
    for kind, done in report.numbered.items():
        click.echo(f"  {NUMBERED[kind].directory.capitalize()}: {done.restored} restored, {done.present} already "
                   f"present" + (f"; {len(done.set_aside)} other {kind} files moved to {done.set_aside_dir}"
                                 if done.set_aside else "") + ".")
    click.echo(f"  Search index rebuilt: {_count(report.indexed, 'case')}.")
    if report.evidence_problems:
        for problem in report.evidence_problems:
            click.echo(problem.message, err=True)
        click.echo(f"Evidence check: {len(report.evidence_problems)} of {report.evidence_checked} files are missing "
                   f"or altered.", err=True)
    else:
        click.echo(f"  Evidence check: OK, {_count(report.evidence_checked, 'evidence file')}, each matching its SHA-256.")
    chain = report.chain
    if chain.ok:
        click.echo(f"  Audit chain: OK, {_count(chain.checked, 'event')}, intact (the backup's head was "
                   f"#{manifest['audit_chain'].get('seq')}).")
    else:
        where = f" at event #{chain.broken_seq}" if chain.broken_seq else ""
        click.echo(f"Audit chain BROKEN{where}: {chain.problem}.", err=True)
    if not report.ok:
        sys.exit(1)
