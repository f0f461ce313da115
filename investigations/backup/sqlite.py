"""SQLite: copying the live database into a backup, and a backup's copy back into the live file,
both with SQLite's online backup API (one transaction, so one consistent snapshot)."""
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from ..extensions import db
from .database import SnapshotFacts, read_facts
from .errors import BackupError
from .progress import Progress


def sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"Cannot back up or restore the SQLite database {database or ':memory:'}: "
                          f"it must be a file named in DATABASE_URL.")
    return Path(database).absolute()


def _online_copy(source: Path, dest: Path) -> None:
    """Copy a live SQLite database: writers (WAL) carry on meanwhile; the copy is a single self-contained file."""
    with closing(sqlite3.connect(source, timeout=60)) as live, closing(sqlite3.connect(dest)) as copy:
        live.execute("PRAGMA busy_timeout=60000")
        live.backup(copy)  # pages=-1: the whole database in one step, from one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")
        result = copy.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"The copy of the SQLite database fails SQLite's integrity check: {result}")


def snapshot_sqlite(dest: Path, progress: Progress) -> tuple[SnapshotFacts, dict]:
    """Copy the live database to `dest`; return what the copy holds and details for the manifest."""
    live = sqlite_path()
    if not live.is_file():
        raise BackupError(f"There is no SQLite database at {live}.")
    with progress("Copying the SQLite database (online backup)", None):
        _online_copy(live, dest)
    return read_sqlite_facts(dest), {"sqlite_version": sqlite3.sqlite_version}


def read_sqlite_facts(copy_path: Path) -> SnapshotFacts:
    """What a backed-up SQLite file holds (sqlite3.Error if it cannot be read); it is never written to."""
    uri = f"{copy_path.absolute().as_uri()}?mode=ro&immutable=1"
    with closing(sqlite3.connect(uri, uri=True)) as copy:
        return read_facts(lambda sql: copy.execute(sql).fetchall(), "sqlite")


def restore_sqlite(backup_file: Path, keep: bool, stamp: str, progress: Progress) -> Path | None:
    """Write the backed-up database into the configured SQLite file, in one transaction (no stale -wal
    file can be mixed in). With `keep`, the file's old contents are kept aside first; returns where."""
    live = sqlite_path()
    live.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    if keep and live.exists():
        kept = live.with_name(f"{live.name}.before-restore-{stamp}")
        with progress(f"Keeping the current database as {kept.name}", None):
            _online_copy(live, kept)
    with progress("Restoring the SQLite database", None):
        try:
            _restore_into(backup_file, live)
        except sqlite3.OperationalError as error:
            # A WAL database with another page size cannot take the pages: start a new file. Any other
            # failure (the database is locked: the app or a long import is still writing) stops here,
            # rather than move the file away under a process that would go on writing to it.
            if "readonly" not in str(error):  # SQLITE_READONLY is how the page-size mismatch shows
                raise BackupError(f"The database could not be restored ({error}). Stop the app (and any "
                                  "import) and run the restore again; nothing was changed in the database.") \
                    from error
            for suffix in ("", "-wal", "-shm"):
                old = live.with_name(live.name + suffix)
                if old.exists():
                    os.rename(old, old.with_name(f"{live.name}.replaced-{stamp}{suffix}"))
            _restore_into(backup_file, live)
    return kept


def _restore_into(backup_file: Path, live: Path) -> None:
    with closing(sqlite3.connect(f"{backup_file.absolute().as_uri()}?mode=ro", uri=True)) as copy, \
            closing(sqlite3.connect(live, timeout=60)) as target:
        target.execute("PRAGMA busy_timeout=60000")
        copy.backup(target)
        result = target.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"The restored SQLite database fails SQLite's integrity check: {result}")
