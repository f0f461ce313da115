"""`flask import …`: bulk imports from the terminal, with a progress bar and a report."""
import os
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from contextlib import contextmanager, nullcontext

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..models.users import normalize_email
from ..search.indexer import indexer_alongside, queue_length
from ..search.sync import writes_inline
from .cfpb import import_cfpb
from .generic import REQUIRED_TARGETS, TARGET_KEYS, import_csv
from .importer import commit_import
from .reader import ImportAborted
from .report import ImportReport

import_cli = AppGroup("import", help="Import complaints from files (CFPB, generic CSV).")

as_option = click.option("--as", "as_email", required=True, metavar="EMAIL",
                         help="The editor (or admin) who files the imported cases.")
no_index_option = click.option(
    "--no-index", is_flag=True,
    help="Do not update the search index after the import (faster for very large files); "
         "run `flask search reindex` afterwards.")


def _importing_editor(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        raise click.ClickException(f"No active account {email}.")
    if not user.is_editor:
        raise click.ClickException(f"{user.email} is a reporter: imports are filed by editors or admins.")
    return user


@contextmanager
def _open_csv(path: str):
    """(stream, name, size) of the file, or of the one CSV file inside a ZIP archive (the CFPB's
    download is complaints.csv.zip), which is then read as it is decompressed."""
    name = os.path.basename(path)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as stream:
            yield stream, name, os.path.getsize(path)
        return
    with zipfile.ZipFile(path) as archive:
        members = [member for member in archive.infolist() if not member.is_dir()]
        if len(members) != 1:
            raise click.ClickException(f"{name} is a ZIP archive of {len(members)} files (an Excel workbook is one "
                                       f"too): unzip the CSV file and import that. Nothing was imported.")
        try:
            stream = archive.open(members[0])
        except (RuntimeError, NotImplementedError) as error:  # encrypted, or Deflate64 and the like
            raise click.ClickException(f"{name} cannot be unzipped here ({error}): unzip it yourself and import the "
                                       f"CSV file. Nothing was imported.") from error
        with stream:
            yield stream, f"{members[0].filename} (from {name})", members[0].file_size


class _Progress:
    """One line on stderr: how much of the file is read, rows, rows per second, the time left and, with
    the indexer alongside, how far the search index is behind; then, while the index catches up, the
    cases still to index, their rate and the time left. Redrawn at most 4 times a second on a terminal;
    in a log (not a terminal), a line every 30 s."""

    QUEUE_EVERY = 2.0  # seconds between two counts of the index's backlog

    def __init__(self):
        self.size = 0
        self.started = time.monotonic()
        self.shown = 0.0
        self.tty = sys.stderr.isatty()
        self.drawn = False
        self.backlog: Callable[[], int] | None = None  # the search queue's length, when an indexer runs alongside
        self.behind = 0
        self.counted = 0.0

    def __call__(self, report: ImportReport, read: int) -> None:
        now = time.monotonic()
        if now - self.shown < (0.25 if self.tty else 30):
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-6)
        rate = report.rows / elapsed
        line = f"Importing {report.rows:,} rows, {rate:,.0f} rows/s"
        if self.size and read:
            left = elapsed * max(self.size - read, 0) / read
            line = (f"Importing {min(read / self.size, 1):4.0%}  {report.rows:,} rows, {rate:,.0f} rows/s, "
                    f"{_duration(left)} left")
        if self.backlog is not None:
            if now - self.counted >= self.QUEUE_EVERY:
                self.counted = now
                try:
                    self.behind = self.backlog()
                except Exception:  # a count that fails is no reason to stop the import
                    self.behind = 0
            if self.behind:
                line += f"; search index {self.behind:,} cases behind"
        self._show(line, elapsed)

    def _show(self, line: str, elapsed: float) -> None:
        if self.tty:
            click.echo(f"\r{line}\x1b[K", nl=False, err=True)
            self.drawn = True
        elif elapsed > 5:
            click.echo(line, err=True)

    def indexing(self, report: ImportReport):
        """A progress function for the wait until the indexer has taken the imported cases."""
        started = time.monotonic()
        first: list[int] = []
        self.shown = 0.0

        def show(left: int) -> None:
            now = time.monotonic()
            if not first:
                first.append(left)
            if now - self.shown < (0.25 if self.tty else 30):
                return
            self.shown = now
            waited = now - started
            line = f"Indexing: {left:,} cases still to index"
            done = first[0] - left
            if done > 0 and waited > 1:
                rate = done / waited
                line += f", {rate:,.0f} cases/s, {_duration(left / rate)} left"
            self._show(line, waited)

        return show

    def done(self) -> None:
        if self.drawn:
            click.echo("\r\x1b[K", nl=False, err=True)
            self.drawn = False


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def _index_notes(report: ImportReport, no_index: bool) -> None:
    if no_index and report.imported:
        click.echo("The search index was not updated (--no-index): run `flask search reindex` now.")
    elif report.index_pending:
        click.echo(f"{report.index_pending:,} imported cases are still waiting for the search index "
                   f"(busy or failing): run `flask search sync`.")


def _run(path: str, no_index: bool, do_import):
    """Open the file, import it batch by batch with a progress line, commit the summary, print the report.

    Each batch is committed on its own: a file that breaks part-way, or Ctrl-C, keeps the batches
    committed before it, and the report says how far it got (run it again to import the rest)."""
    if no_index:
        current_app.config["SEARCH_SYNC"] = False
    progress = _Progress()
    feeds_indexer = not no_index and not writes_inline()
    app = current_app._get_current_object()
    caught_up = None
    with indexer_alongside(app) if feeds_indexer else nullcontext(None) as drain:
        if drain is not None:
            progress.backlog = lambda: queue_length(app)
        try:
            with _open_csv(path) as (stream, name, size):
                progress.size = size
                report = do_import(stream, name, progress)
        except (ImportAborted, KeyboardInterrupt, zipfile.BadZipFile, zlib.error, EOFError) as error:
            _stopped(error, progress, no_index)
        progress.done()
        commit_import(report)
        imported_in = time.monotonic() - progress.started
        if drain is not None and report.imported:
            waiting = progress.indexing(report)
            if drain(waiting):
                caught_up = time.monotonic() - progress.started - imported_in
            else:
                report.index_pending = queue_length(app)
            progress.done()
    for line in report.summary_lines():
        click.echo(line)
    if report.imported:
        click.echo(f"Took {_duration(imported_in)} ({report.rows / max(imported_in, 1e-6):,.0f} rows/s)"
                   + (f"; the search index caught up {caught_up:.1f} s later." if caught_up is not None else "."))
    _index_notes(report, no_index)


def _stopped(error, progress, no_index: bool):
    """A file that broke part-way, Ctrl-C or a damaged ZIP (the last three): say what was kept."""
    db.session.rollback()
    progress.done()
    report = getattr(error, "report", None)
    kept = report.stopped_message if report is not None else "Nothing was imported."
    if report is not None and report.imported:
        for line in report.summary_lines():
            click.echo(line)
        _index_notes(report, no_index)
    if isinstance(error, KeyboardInterrupt):
        click.echo(f"Interrupted. {kept}", err=True)
        raise click.exceptions.Exit(130) from None
    raise click.ClickException(f"{error} {kept}") from error


@import_cli.command("cfpb")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@as_option
@no_index_option
def cfpb_command(file, as_email, no_index):
    """Import complaints from a CSV export of the CFPB Consumer Complaint Database
    (FILE may also be the ZIP archive the CFPB publishes, holding the one CSV file).

    Complaints already imported (by Complaint ID) are skipped; rows that cannot become cases are
    listed with their line number and reason. A file that cannot be read imports nothing.
    """
    author = _importing_editor(as_email)
    _run(file, no_index, lambda stream, name, progress: import_cfpb(stream, author, name, progress))


def _parse_mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, column = pair.partition("=")
        target, column = target.strip(), column.strip()
        if not sep or not column:
            raise click.BadParameter(f"“{pair}”: write TARGET=COLUMN, e.g. title=Subject.", param_hint="--map")
        if target not in TARGET_KEYS:
            raise click.BadParameter(f"unknown target “{target}”; the targets are {', '.join(TARGET_KEYS)}.",
                                     param_hint="--map")
        if target in mapping:
            raise click.BadParameter(f"{target} is mapped twice.", param_hint="--map")
        mapping[target] = column
    return mapping


@import_cli.command("csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--map", "pairs", multiple=True, metavar="TARGET=COLUMN",
              help=f"Which column holds a case field; repeat for each. Targets: {', '.join(TARGET_KEYS)}. "
                   "title, narrative, business and date_received are required.")
@as_option
@no_index_option
def csv_command(file, pairs, as_email, no_index):
    """Import complaints from any CSV file, given which column holds what.

    \b
    flask import csv complaints.csv --as eve@example.org \\
        --map title=Subject --map narrative=Story --map business=Company --map date_received=Date

    Rows with an external_id are skipped when imported again.
    """
    mapping = _parse_mapping(pairs)
    missing = [target for target in REQUIRED_TARGETS if target not in mapping]
    if missing:
        raise click.UsageError(f"Map the required targets too: {', '.join('--map ' + m + '=COLUMN' for m in missing)}.")
    author = _importing_editor(as_email)
    _run(file, no_index, lambda stream, name, progress: import_csv(stream, author, name, mapping, progress))
