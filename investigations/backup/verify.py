"""Verifying a backup against its manifest, without the app's database or files."""
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .database import DATABASE_FILES
from .files import hash_file
from .manifest import MANIFEST, NUMBERED, evidence_path, load_manifest, numbered_path, valid_entries
from .progress import Progress, no_progress
from .sqlite import read_sqlite_facts


@dataclass
class VerifyReport:
    directory: Path
    manifest: dict | None = None
    files: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems

    @property
    def recorded_problems(self) -> list[dict]:
        """Problems of the live store noted when the backup was made (not damage to the backup)."""
        return (self.manifest or {}).get("problems", [])


def verify_backup(source_dir, progress: Progress | None = None) -> VerifyReport:
    """Check a backup directory against its manifest: every listed file present with its size and
    SHA-256, nothing else there, and (SQLite) every evidence row's file in the backup."""
    progress = progress or no_progress
    source = Path(source_dir)
    report = VerifyReport(source)
    manifest = load_manifest(source, report.problems)
    if manifest is None:
        return report
    report.manifest = manifest
    entries = valid_entries(manifest, report.problems)
    intact = _check_listed_files(source, entries, report, progress)
    _check_nothing_else(source, {entry["path"] for entry in entries} | {MANIFEST}, report)
    if manifest["database"].get("kind") == "sqlite" and DATABASE_FILES["sqlite"] in intact:
        _check_rows_have_files(source, manifest, {entry["path"] for entry in entries}, report)
    return report


def _check_listed_files(source: Path, entries: list[dict], report: VerifyReport, progress: Progress) -> set[str]:
    """Hash every listed file; return the paths of those that match the manifest."""
    intact = set()
    with progress("Checking the backup's hashes", sum(entry["size"] for entry in entries)) as update:
        for entry in entries:
            path = source / entry["path"]
            if path.is_symlink() or (path.exists() and not path.is_file()):
                report.problems.append(f"NOT A FILE: {entry['path']} (a link or directory where a file belongs)")
                update(entry["size"])
                continue
            if not path.exists():
                report.problems.append(f"MISSING: {entry['path']}")
                update(entry["size"])
                continue
            sha256, size = hash_file(path, update)
            report.files += 1
            report.bytes += size
            if size != entry["size"] or sha256 != entry["sha256"]:
                report.problems.append(f"ALTERED: {entry['path']} has SHA-256 {sha256} ({size} bytes); the manifest "
                                       f"says {entry['sha256']} ({entry['size']} bytes)")
            else:
                intact.add(entry["path"])
    return intact


def _check_nothing_else(source: Path, listed: set[str], report: VerifyReport) -> None:
    for root, dirs, names in os.walk(source):
        relative_root = Path(root).relative_to(source)
        for name in sorted(dirs):
            if name.startswith(".partial-"):
                report.problems.append(f"UNEXPECTED: {relative_root / name}/ was left by an interrupted backup")
                dirs.remove(name)
            elif (Path(root) / name).is_symlink():
                report.problems.append(f"UNEXPECTED: {relative_root / name} (a link)")
        for name in sorted(names):
            relative = (relative_root / name).as_posix()
            if relative not in listed:
                report.problems.append(f"UNEXPECTED: {relative} is not in the manifest")


def _check_rows_have_files(source: Path, manifest: dict, listed: set[str], report: VerifyReport) -> None:
    """Every evidence row (and file of a public submission), issued dossier and letter sent in the
    backed-up SQLite database has its file here (apart from files already missing from the live
    store when the backup was made)."""
    known = {problem.get("sha256") for problem in manifest["problems"]}
    try:
        facts = read_sqlite_facts(source / DATABASE_FILES["sqlite"])
    except sqlite3.Error as error:
        report.problems.append(f"The backed-up database cannot be read: {error}")
        return
    for sha256 in sorted(facts.evidence):
        if _evidence_path_or_none(sha256) not in listed and sha256 not in known:
            report.problems.append(f"MISSING: the backed-up database has evidence {sha256}, whose file is not in "
                                   f"the backup")
    for kind in NUMBERED:
        known = {problem.get(kind) for problem in manifest["problems"]}
        for number, _, _ in facts.numbered[kind]:
            if numbered_path(kind, number) not in listed and number not in known:
                report.problems.append(f"MISSING: the backed-up database has {kind} #{number}, whose file is not "
                                       f"in the backup")


def _evidence_path_or_none(sha256: str) -> str | None:
    try:
        return evidence_path(sha256)
    except ValueError:  # not a SHA-256: a doctored database, whose file cannot be here
        return None
