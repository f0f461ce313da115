"""`flask import …`: bulk imports from the terminal, with a progress bar and a report."""
import os
import sys
import zipfile
import zlib
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..models.users import normalize_email
from .cfpb import import_cfpb
from .generic import REQUIRED_TARGETS, TARGET_KEYS, import_csv
from .importer import commit_import
from .reader import ImportAborted

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


def _run(path: str, no_index: bool, do_import):
    """Open the file with a progress bar by bytes read, import, commit, print the report."""
    if no_index:
        current_app.config["SEARCH_SYNC"] = False
    try:
        with _open_csv(path) as (stream, name, size), click.progressbar(
                length=size, label="Importing", file=sys.stderr, show_pos=False) as bar:
            done = [0]

            def progress(read: int) -> None:
                bar.update(read - done[0])
                done[0] = read

            report = do_import(stream, name, progress)
    except (ImportAborted, zipfile.BadZipFile, zlib.error, EOFError) as error:  # the last three: a damaged ZIP
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was imported.") from error
    if report.imported and not no_index:
        click.echo(f"Updating the search index for {report.imported:,} cases…", err=True)
    commit_import(report)
    for line in report.summary_lines():
        click.echo(line)
    if no_index and report.imported:
        click.echo("The search index was not updated (--no-index): run `flask search reindex` now.")
    elif report.index_pending:
        click.echo(f"{report.index_pending:,} imported cases are still waiting for the search index "
                   f"(busy or failing): run `flask search sync`.")


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
