"""manifest.json: what a backup holds, the SHA-256 and size of every file in it, and where each
file may be. Paths in a backup are those of the stores: evidence/ is laid out as EVIDENCE_DIR,
dossiers/ as DOSSIER_DIR, letters/ as LETTER_DIR (see storage.py)."""
import json
import os
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from ..config import REPO_ROOT
from ..storage import DossierStore, EvidenceStore, LetterStore, NumberedFileStore
from .database import DATABASE_FILES

FORMAT = "investigations-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EVIDENCE = "evidence"  # the backup's directory for the evidence store


class NumberedKind(NamedTuple):
    """A store of one PDF per row (storage.NumberedFileStore), as a backup holds it."""

    directory: str  # in the backup
    store: type[NumberedFileStore]
    setting: str  # the configuration key of its live directory
    counted_as: str  # in the manifest's counts


# "dossier": issued dossiers; "letter": right-of-reply letters sent. The kind is also the key of the
# manifest problems that name one ({"kind": "dossier missing", "dossier": 7, ...}).
NUMBERED = {
    "dossier": NumberedKind("dossiers", DossierStore, "DOSSIER_DIR", "issued dossiers"),
    "letter": NumberedKind("letters", LetterStore, "LETTER_DIR", "right-of-reply letters"),
}
_SHA256 = re.compile(r"[0-9a-f]{64}")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def app_version() -> str:
    try:
        with open(REPO_ROOT / "pyproject.toml", "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def evidence_path(sha256: str, variant: str | None = None) -> str:
    """Where an evidence file (or, with a variant, a copy made of a photo) is in a backup."""
    relative = (EvidenceStore.relative_path(sha256) if variant is None
                else EvidenceStore.relative_derived_path(sha256, variant))
    return f"{EVIDENCE}/{relative}"


def numbered_path(kind: str, number: int) -> str:
    """Where a dossier's or a letter's PDF is in a backup."""
    numbered = NUMBERED[kind]
    return f"{numbered.directory}/{numbered.store.relative_path(number)}"


class BackupPath(NamedTuple):
    """What a path in a backup holds."""

    kind: str  # "database", "evidence", "photo copy", or a kind of NUMBERED ("dossier", "letter")
    sha256: str | None = None  # evidence and photo copies: the original's SHA-256
    variant: str | None = None  # photo copies: "thumb" or "print"
    number: int | None = None  # dossiers and letters: the row's id


def parse_path(path: str) -> BackupPath | None:
    """What `path` holds, or None when no backup has a file there. A restore writes files only
    where this allows, so a doctored manifest cannot write outside the app's directories."""
    if path in DATABASE_FILES.values():
        return BackupPath("database")
    directory, _, relative = path.partition("/")
    if directory == EVIDENCE and (name := EvidenceStore.parse(relative)):
        return BackupPath("evidence" if name.variant is None else "photo copy", name.sha256, name.variant)
    for kind, numbered in NUMBERED.items():
        if directory == numbered.directory and (number := numbered.store.parse(relative)):
            return BackupPath(kind, number=number)
    return None


def write_manifest(path: Path, manifest: dict) -> None:
    with open(path, "x", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)


def load_manifest(source: Path, problems: list[str]) -> dict | None:
    """The manifest of the backup in `source`, or None with the reason added to `problems`."""
    path = source / MANIFEST
    if not source.is_dir():
        problems.append(f"{source} is not a directory.")
        return None
    if not path.is_file():
        partials = [entry.name for entry in source.iterdir() if entry.name.startswith(".partial-")]
        problems.append(f"No {MANIFEST} in {source}: " + (
            f"an interrupted backup (it left {partials[0]})." if partials
            else "not a backup, or one that never finished."))
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        problems.append(f"{MANIFEST} cannot be read ({error}): the manifest is damaged.")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        problems.append(f"{MANIFEST} is not the manifest of a backup made by this app.")
        return None
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        problems.append(f"This backup's format (version {manifest.get('format_version')}) is newer than "
                        f"this app understands ({FORMAT_VERSION}); update the app.")
        return None
    for key, kind in (("files", list), ("database", dict), ("counts", dict), ("audit_chain", dict),
                      ("problems", list)):
        if not isinstance(manifest.get(key), kind):
            problems.append(f"{MANIFEST} has no valid “{key}”: the manifest is damaged.")
            return None
    if not all(isinstance(problem, dict) and isinstance(problem.get("message"), str)
               for problem in manifest["problems"]):
        problems.append(f"{MANIFEST} has no valid “problems”: the manifest is damaged.")
        return None
    return manifest


def valid_entries(manifest: dict, problems: list[str]) -> list[dict]:
    """The manifest's file entries that are well-formed and name a place a backup may have a file;
    each one that is not is described in `problems`, as is a missing database file."""
    entries, seen = [], set()
    for entry in manifest["files"]:
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not isinstance(entry.get("sha256"), str) or \
                not _SHA256.fullmatch(entry["sha256"]) or not isinstance(entry.get("size"), int) \
                or entry["size"] < 0:
            problems.append(f"{MANIFEST} has a malformed file entry: {str(entry)[:200]}")
            continue
        what = parse_path(path)
        if what is None:
            problems.append(f"{MANIFEST} lists a path a backup never contains: {path[:200]!r}")
            continue
        if path in seen:
            problems.append(f"{MANIFEST} lists {path} twice.")
            continue
        if what.kind == "evidence" and what.sha256 != entry["sha256"]:
            problems.append(f"{MANIFEST} gives evidence file {path} the hash {entry['sha256']}, "
                            f"which is not its name.")
            continue
        seen.add(path)
        entries.append(entry)
    database = manifest["database"]
    expected = DATABASE_FILES.get(database.get("kind"))
    if expected is None:
        problems.append(f"{MANIFEST} names an unknown database kind {database.get('kind')!r}.")
    elif expected not in seen:
        problems.append(f"{MANIFEST} does not list the database file {expected}.")
    return entries
