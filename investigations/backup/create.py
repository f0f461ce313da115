"""The steps of creating a backup (put together by create_backup in __init__.py): checking the
target directory, copying the files the snapshot's rows refer to, and moving the finished backup
into place."""
import os
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..storage import evidence_store, fsync_dir
from .database import SnapshotFacts
from .errors import BackupError
from .files import FilePlacer
from .manifest import MANIFEST, NUMBERED, evidence_path, numbered_path
from .progress import Progress


@dataclass
class BackupReport:
    directory: Path
    manifest: dict
    linked: int = 0  # files hard-linked from the live directories
    copied: int = 0

    @property
    def problems(self) -> list[dict]:
        return self.manifest["problems"]

    @property
    def total_bytes(self) -> int:
        return sum(entry["size"] for entry in self.manifest["files"])


def check_target(target: Path) -> None:
    """Refuse a target inside the app's own directories, or one that is not a new or empty directory."""
    resolved = target.resolve()
    config = current_app.config
    for name in ("EVIDENCE_DIR", "DOSSIER_DIR", "LETTER_DIR", "SEARCH_INDEX_DIR"):
        live = Path(config[name]).resolve()
        if resolved == live or live in resolved.parents:
            raise BackupError(f"{target} is inside {name} ({live}); choose a directory outside the app's own.")
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} exists and is not a directory.")
    if target.is_dir():
        entries = sorted(entry.name for entry in target.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (" …" if len(entries) > 5 else "")
            hint = " (.partial-* is left by an interrupted backup)" if any(
                name.startswith(".partial-") for name in entries) else ""
            raise BackupError(f"{target} is not empty (it holds {shown}){hint}. Give a new or empty directory.")


def copy_evidence(facts: SnapshotFacts, partial: Path, placer: FilePlacer, files: list, problems: list,
                  progress: Progress, patience_seconds: float) -> None:
    """Place every evidence file of the snapshot, and the copies made of its photos, into `partial`.

    A committed row's object can be briefly absent: a failed upload of the same bytes removes the
    object it thought was its own, and the committed upload links it back a moment later
    (EvidenceStore.finish). So a missing file is looked for again, for `patience_seconds` in all."""
    store = evidence_store()
    patience = patience_seconds
    with progress("Copying evidence files", sum(facts.evidence.values())) as update:
        for sha256, size in sorted(facts.evidence.items()):
            relative = evidence_path(sha256)
            dest = partial / relative
            while True:
                try:
                    actual, actual_size = placer.place(store.path_for(sha256), dest, update)
                    break
                except FileNotFoundError:
                    if patience <= 0:
                        actual = None
                        break
                    time.sleep(0.25)
                    patience -= 0.25
            if actual is None:
                update(size)
                problems.append({"kind": "evidence missing", "sha256": sha256,
                                 "message": f"Evidence file {sha256} is missing from EVIDENCE_DIR, so it is not in "
                                            f"the backup (run `flask evidence verify`)."})
            elif actual != sha256:
                dest.unlink()
                problems.append({"kind": "evidence altered", "sha256": sha256,
                                 "message": f"Evidence file {sha256} is altered in EVIDENCE_DIR (its bytes hash to "
                                            f"{actual}), so it is not in the backup (run `flask evidence verify`)."})
            else:
                files.append({"path": relative, "sha256": actual, "size": actual_size})

    photo_copies = [(sha256, variant) for sha256 in sorted(facts.photos) for variant in store.VARIANTS]
    with progress("Copying photo thumbnails and print copies", len(photo_copies)) as update:
        for sha256, variant in photo_copies:
            relative = evidence_path(sha256, variant)
            try:
                actual, size = placer.place(store.derived_path(sha256, variant), partial / relative)
            except FileNotFoundError:
                pass  # made again from the original at restore
            else:
                files.append({"path": relative, "sha256": actual, "size": size})
            update(1)


def copy_numbered_files(facts: SnapshotFacts, partial: Path, placer: FilePlacer, files: list, problems: list,
                        progress: Progress) -> None:
    """Place the PDF of every dossier the snapshot says was issued, and of every right-of-reply letter
    it says was sent, into `partial`."""
    for kind, numbered in NUMBERED.items():
        store = numbered.store(current_app.config[numbered.setting])
        issued = facts.numbered[kind]
        with progress(f"Copying {numbered.directory}", sum(size or 0 for _, _, size in issued)) as update:
            for number, sha256, size in issued:
                relative = numbered_path(kind, number)
                dest = partial / relative
                try:
                    actual, actual_size = placer.place(store.path_for(number), dest, update)
                except FileNotFoundError:
                    update(size or 0)
                    problems.append({"kind": f"{kind} missing", kind: number, "message": f"{kind.capitalize()} "
                                     f"#{number}'s file is missing from {numbered.setting}."})
                    continue
                if actual != sha256:
                    dest.unlink()
                    problems.append({"kind": f"{kind} altered", kind: number, "message": f"{kind.capitalize()} "
                                     f"#{number}'s file in {numbered.setting} is not the one its record names "
                                     f"(SHA-256 {actual}, recorded {sha256}); it is not in the backup."})
                    continue
                files.append({"path": relative, "sha256": actual, "size": actual_size})


def move_into_place(partial: Path, target: Path) -> None:
    """Move everything from .partial-* into the backup directory, the manifest last."""
    for entry in sorted(partial.iterdir()):
        if entry.name == MANIFEST:
            continue
        if entry.is_dir():
            os.rename(entry, target / entry.name)  # fails if a non-empty directory of that name appeared
        else:
            os.link(entry, target / entry.name)  # fails rather than replace a file
            entry.unlink()
    fsync_dir(target)
    os.link(partial / MANIFEST, target / MANIFEST)
    (partial / MANIFEST).unlink()
    partial.rmdir()
    fsync_dir(target)
