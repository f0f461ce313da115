"""The steps of restoring a backup (put together by restore_backup in __init__.py): the checks that
refuse a restore, and putting the backup's evidence files, dossiers and letters into the stores."""
import os
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from ..storage import evidence_store
from .database import ExistingData, database_kind, database_label, describe_counts, existing_data, migration_script
from .errors import BackupError
from .files import hash_file, install_file
from .manifest import NUMBERED, BackupPath, parse_path
from .progress import Progress
from .sqlite import sqlite_path


class NotEmpty(BackupError):
    """The database holds data and --force was not given."""

    def __init__(self, existing: ExistingData, manifest: dict):
        stamp = "<date-time>"
        self.existing = existing
        kind = manifest["database"]["kind"]
        if kind == "sqlite":
            kept = f"The current database file would be kept as {sqlite_path().name}.before-restore-{stamp}."
        else:
            kept = ("Its current contents would be dropped (pg_restore --clean) and not kept: back them up "
                    "first with `flask backup create`.")
        super().__init__(
            f"The database {existing.where} is not empty: it holds {existing.describe()}.\n"
            f"Restoring replaces all of it with the backup made {manifest.get('created_at')} "
            f"({describe_counts(manifest['counts'])}). {kept}\n"
            f"Dossier and letter files in DOSSIER_DIR and LETTER_DIR that are not in the backup would be moved to "
            f"{Path(current_app.config['DOSSIER_DIR']) / ('replaced-by-restore-' + stamp)}/ and "
            f"{Path(current_app.config['LETTER_DIR']) / ('replaced-by-restore-' + stamp)}/; evidence files are only "
            f"added (they are named by their hash and never overwritten); the search index is rebuilt.\n"
            f"Stop the app, then run the restore again with --force to replace it.")


@dataclass
class NumberedRestored:
    """What a restore did with the dossiers' (or the letters') PDFs."""

    restored: int = 0
    present: int = 0
    set_aside: list[str] = field(default_factory=list)  # files of the replaced database's rows
    set_aside_dir: Path | None = None


@dataclass
class RestoreReport:
    manifest: dict
    replaced: ExistingData
    database_kept_as: Path | None = None
    evidence_restored: int = 0
    evidence_present: int = 0
    evidence_repaired: list[str] = field(default_factory=list)  # altered in the store, replaced by the backup's
    evidence_set_aside: Path | None = None
    photo_copies_restored: int = 0
    photo_copies_remade: int = 0
    numbered: dict[str, "NumberedRestored"] = field(default_factory=dict)  # by kind: "dossier", "letter"
    tables_dropped: list[str] = field(default_factory=list)  # PostgreSQL: of migrations newer than the backup
    indexed: int = 0
    evidence_checked: int = 0
    evidence_problems: list = field(default_factory=list)  # evidence.services.VerifyProblem
    chain: object = None  # audit.ChainReport, once checked

    @property
    def ok(self) -> bool:
        return not self.evidence_problems and self.chain is not None and self.chain.ok


def check_restorable(manifest: dict, force: bool) -> ExistingData:
    """Refuse a backup of another kind of database or of a newer app, and (unless `force`) a
    database that holds data; return what the database holds now."""
    kind = database_kind()
    backup_kind = manifest["database"]["kind"]
    if backup_kind != kind:
        raise BackupError(f"This is a backup of a {backup_kind} database; the app is configured for {kind} "
                          f"({database_label()}). Restore it into the same kind of database.")
    revision = manifest["database"].get("migration_revision")
    script = migration_script()
    for rev in str(revision or "").split(","):
        if rev:
            try:
                script.get_revision(rev)
            except Exception:
                raise BackupError(f"This backup's database is at migration {rev}, which this version of the app "
                                  f"does not know: it was made by a newer version. Update the app first.")
    existing = existing_data()
    if not existing.empty and not force:
        raise NotEmpty(existing, manifest)
    return existing


def _listed(entries: list[dict], kind: str) -> list[tuple[dict, BackupPath]]:
    """The entries of one kind ("evidence", "photo copy", "dossier", "letter"), each with what its path names."""
    found = [(entry, parse_path(entry["path"])) for entry in entries]
    return [(entry, what) for entry, what in found if what is not None and what.kind == kind]


def restore_evidence(source: Path, entries: list[dict], report: RestoreReport, stamp: str,
                     progress: Progress) -> None:
    """Add the backup's evidence files to EVIDENCE_DIR. One already there is kept if its bytes are
    intact; a damaged one is moved aside and replaced. Then the copies made of photos."""
    store = evidence_store()
    store.ensure_dirs()
    originals = _listed(entries, "evidence")
    with progress("Restoring evidence files", sum(entry["size"] for entry, _ in originals)) as update:
        for entry, what in originals:
            dest = store.path_for(what.sha256)
            if dest.is_file():
                if hash_file(dest)[0] == what.sha256:
                    report.evidence_present += 1
                    update(entry["size"])
                    continue
                report.evidence_set_aside = store.root / f"replaced-by-restore-{stamp}"
                report.evidence_set_aside.mkdir(exist_ok=True)
                os.rename(dest, report.evidence_set_aside / what.sha256)
                report.evidence_repaired.append(what.sha256)
            install_file(source / entry["path"], dest, store.tmp, what.sha256, update, replace=False)
            report.evidence_restored += 1
    photo_copies = _listed(entries, "photo copy")
    with progress("Restoring photo thumbnails and print copies", len(photo_copies)) as update:
        for entry, what in photo_copies:
            dest = store.derived_path(what.sha256, what.variant)
            if not (dest.is_file() and hash_file(dest)[0] == entry["sha256"]):
                dest.parent.mkdir(parents=True, exist_ok=True)
                install_file(source / entry["path"], dest, dest.parent, entry["sha256"], mode=0o644)
                report.photo_copies_restored += 1
            update(1)


def restore_numbered_files(source: Path, entries: list[dict], report: RestoreReport, stamp: str,
                           progress: Progress) -> None:
    """Put the backup's dossiers into DOSSIER_DIR and its letters into LETTER_DIR. Files of the replaced
    database's rows would otherwise be overwritten by new ones with the same number, so they are moved aside."""
    for kind, numbered in NUMBERED.items():
        store = numbered.store(current_app.config[numbered.setting])
        store.ensure_dir()
        done = report.numbered[kind] = NumberedRestored()
        wanted = {store.path_for(what.number): entry for entry, what in _listed(entries, kind)}
        aside = store.root / f"replaced-by-restore-{stamp}"
        for existing in store.stored_files():
            entry = wanted.get(existing)
            if entry is None or hash_file(existing)[0] != entry["sha256"]:
                aside.mkdir(exist_ok=True)
                os.rename(existing, aside / existing.name)
                done.set_aside.append(existing.name)
                done.set_aside_dir = aside
        with progress(f"Restoring {numbered.directory}", sum(entry["size"] for entry in wanted.values())) as update:
            for dest, entry in sorted(wanted.items()):
                if dest.is_file():
                    done.present += 1
                    update(entry["size"])
                    continue
                install_file(source / entry["path"], dest, store.root, entry["sha256"], update, mode=store.FILE_MODE)
                done.restored += 1
