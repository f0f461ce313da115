"""Backups: a consistent snapshot of the database, the evidence files (staff uploads, and files sent
with public submissions still in triage), the dossiers and the right-of-reply letters, with a manifest
of SHA-256 hashes; verifying a backup; restoring one.

Layout of a backup directory (evidence/, dossiers/ and letters/ are laid out as their stores, storage.py):

    manifest.json                 what is in it, the hash and size of every file, counts, audit chain head
    database.sqlite3              SQLite: a copy made with SQLite's online backup API
    database.pgdump               PostgreSQL: pg_dump --format=custom
    evidence/objects/ab/cd/<sha256>            the evidence files referenced by the backed-up rows
    evidence/derived/ab/<sha256>-thumb.jpg     thumbnails and print copies of photos
    dossiers/dossier-<id>.pdf                  the dossiers the backed-up rows say were issued
    letters/letter-<id>.pdf                    the right-of-reply letters they say were sent

Consistency while the app runs: the database is copied first, in one transaction (SQLite's
backup API reads one snapshot; on PostgreSQL pg_dump imports a snapshot exported by a
transaction that then also reads the list of files). The files to copy are read from that
snapshot, never from the live database, so every row in the backup has its file: the
evidence store is content-addressed and append-only (an object is linked into place before
its row is committed, and never changed), and a dossier's or letter's file is written before its
row says it exists. Files are hard-linked from the live directories when they share a filesystem,
else copied; either way each is hashed, and evidence objects must hash to their names.

Everything is written into DIR/.partial-<random>/ and moved into DIR at the end, the manifest
last, so an interrupted backup never has a manifest and never looks complete.

This module puts the steps together; they are in:
    manifest.py        the manifest: reading, checking and writing it; which paths a backup may hold
    database.py        the database whatever its engine: kind, counts, migrations, what a snapshot holds
    sqlite.py          SQLite's snapshot and restore;  postgres.py  PostgreSQL's (pg_dump, pg_restore)
    files.py           hashing, hard-linking and copying files
    create.py          copying the files a snapshot refers to into a new backup
    verify.py          checking a backup against its manifest
    restore.py         the checks before a restore; putting the files back into the stores
    finish_restore.py  migrations, photo copies, search index and checks after a restore
    cli.py             `flask backup create|verify|restore`
"""
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ..extensions import db
from .create import BackupReport, check_target, move_into_place
from .create import copy_evidence as _copy_evidence  # these two are looked up here when a backup runs,
from .create import copy_numbered_files as _copy_numbered_files  # so a test can replace one to interrupt it
from .database import (
    DATABASE_FILES,
    ExistingData,
    database_kind,
    database_label,
    describe_counts,
    existing_data,
    migration_heads,
)
from .errors import BackupError
from .files import FilePlacer, hash_file
from .finish_restore import finish_restore
from .manifest import FORMAT, FORMAT_VERSION, MANIFEST, NUMBERED, app_version, load_manifest, utc_now, write_manifest
from .postgres import find_pg_tool as _pg_tool  # noqa: F401 (the name the tests use)
from .postgres import pg_environment, restore_postgres, snapshot_postgres
from .progress import Progress, no_progress
from .restore import NotEmpty, RestoreReport, check_restorable, restore_evidence, restore_numbered_files
from .sqlite import restore_sqlite, snapshot_sqlite
from .verify import VerifyReport, verify_backup

MISSING_FILE_PATIENCE_SECONDS = 10.0  # in all, over the whole backup: see create.copy_evidence

__all__ = [
    "DATABASE_FILES", "FORMAT", "FORMAT_VERSION", "MANIFEST", "MISSING_FILE_PATIENCE_SECONDS", "BackupError",
    "BackupReport", "ExistingData", "NotEmpty", "Progress", "RestoreReport", "VerifyReport", "app_version",
    "create_backup", "describe_counts", "existing_data", "hash_file", "migration_heads", "no_progress",
    "pg_environment", "restore_backup", "verify_backup",
]


def create_backup(target_dir, progress: Progress | None = None, link: bool = True) -> BackupReport:
    """Write a consistent backup of the running app into `target_dir` (new, or empty).

    Files are hard-linked from EVIDENCE_DIR, DOSSIER_DIR and LETTER_DIR when on the same filesystem (pass
    link=False to copy them anyway, e.g. for a backup to be moved elsewhere). Problems found in
    the live store (a file missing or altered) do not stop the backup: they are listed in the
    manifest's "problems" and in the report. Records a `backup.create` audit event (and commits).
    """
    progress = progress or no_progress
    target = Path(target_dir).absolute()
    check_target(target)
    created_dir = not target.exists()
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=target))
    try:
        report = _write_backup(target, partial, progress, link)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # hard links only: the live files keep their own names
        if created_dir and not any(target.iterdir()):
            target.rmdir()
        raise
    from .. import audit

    audit.record("backup.create", None, actor_label="command line", directory=str(target),
                 audit_chain_seq=report.manifest["audit_chain"]["seq"], files=len(report.manifest["files"]),
                 problems=len(report.problems))
    db.session.commit()
    return report


def _write_backup(target: Path, partial: Path, progress: Progress, link: bool) -> BackupReport:
    created_at = utc_now()
    kind = database_kind()
    database_file = DATABASE_FILES[kind]
    snapshot = snapshot_sqlite if kind == "sqlite" else snapshot_postgres
    facts, database_details = snapshot(partial / database_file, progress)
    os.chmod(partial / database_file, 0o600)

    files: list[dict] = []
    problems: list[dict] = []
    placer = FilePlacer(link)
    for top in ("evidence", *(numbered.directory for numbered in NUMBERED.values())):
        (partial / top).mkdir(mode=0o700)  # private: a backup holds complainants' details and the evidence
    _copy_evidence(facts, partial, placer, files, problems, progress, MISSING_FILE_PATIENCE_SECONDS)
    _copy_numbered_files(facts, partial, placer, files, problems, progress)
    with progress("Hashing the database copy", (partial / database_file).stat().st_size) as update:
        sha256, size = hash_file(partial / database_file, update)
    files.append({"path": database_file, "sha256": sha256, "size": size})
    files.sort(key=lambda entry: entry["path"])

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created_at,
        "completed_at": utc_now(),
        "app": {"name": "investigations", "version": app_version(), "migration_heads": migration_heads()},
        "database": {"kind": kind, "file": database_file, "migration_revision": facts.migration_revision,
                     "source": database_label(), **database_details},
        "counts": {**facts.counts, "evidence files": len(facts.evidence),
                   **{numbered.counted_as: len(facts.numbered[kind]) for kind, numbered in NUMBERED.items()}},
        "audit_chain": {"seq": facts.chain_seq, "head_hash": facts.chain_hash},
        "files": files,
        "problems": problems,
    }
    write_manifest(partial / MANIFEST, manifest)
    move_into_place(partial, target)
    return BackupReport(target, manifest, linked=placer.linked, copied=placer.copied)


def restore_backup(source_dir, progress: Progress | None = None, force: bool = False) -> RestoreReport:
    """Restore a backup into the configured database, EVIDENCE_DIR, DOSSIER_DIR and LETTER_DIR. The app must be
    stopped. Verifies the backup first and changes nothing if any file fails; refuses a database
    that holds data unless `force` (NotEmpty says what would be replaced). Then migrates, rebuilds the
    search index, re-hashes the evidence, walks the audit chain, and records a `backup.restore` event."""
    progress = progress or no_progress
    source = Path(source_dir)
    # The cheap refusals first (wrong kind, newer app, data in the way), then every hash.
    manifest = load_manifest(source, problems=[])
    existing = check_restorable(manifest, force) if manifest is not None else None
    check = verify_backup(source, progress)
    if not check.ok:
        shown = check.problems[:20] + ([f"… and {len(check.problems) - 20} more"] if len(check.problems) > 20 else [])
        raise BackupError(f"The backup in {source} does not verify, so nothing was restored:\n  " + "\n  ".join(shown))
    if check.manifest != manifest or existing is None:
        raise BackupError(f"{source / MANIFEST} changed during the restore; nothing was restored.")
    kind = database_kind()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")

    report = RestoreReport(manifest, existing)
    entries = manifest["files"]
    restore_evidence(source, entries, report, stamp, progress)
    db.session.remove()
    db.engine.dispose()
    database_file = source / DATABASE_FILES[kind]
    if kind == "sqlite":
        report.database_kept_as = restore_sqlite(database_file, keep=not existing.empty, stamp=stamp,
                                                 progress=progress)
    else:
        report.tables_dropped = restore_postgres(database_file, progress)
    db.engine.dispose()
    restore_numbered_files(source, entries, report, stamp, progress)
    finish_restore(report, progress)
    return report
