"""Files the app keeps on disk, one store per kind, each knowing its own layout:

- EvidenceStore (EVIDENCE_DIR): evidence files, content-addressed by SHA-256;
- DossierStore (DOSSIER_DIR): the issued dossiers, one PDF per dossier row;
- LetterStore (LETTER_DIR): the right-of-reply letters sent, one PDF per letter row;
- ImportStagingStore (INSTANCE_DIR/imports): CSV files uploaded for an import, kept until it runs.

Each store names its files by a path relative to its root (`relative_path`; `path_for` adds the
root). A backup lays the evidence and dossier files out the same way and asks those two stores
which of their files a relative path names (`parse`), so nothing outside this module needs to
know the layouts.

Evidence: a file is streamed into tmp/ while it is hashed, fsynced, then linked into
objects/ab/cd/<sha256> (a link never replaces an existing file, so stored bytes are
never overwritten) and made read-only. The database row is written only after that.
The temporary file stays, locked, until the caller's transaction has committed
(finish) or failed (discard, and remove the object if this upload created it), so a
concurrent clean-up can never leave a committed row without its file. Temporary files
whose lock is free belong to a crashed process and are removed at the next start.
"""
import fcntl
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from flask import current_app

CHUNK = 1024 * 1024


class TooLarge(ValueError):
    def __init__(self, limit_bytes: int):
        super().__init__(f"larger than {limit_bytes // 2**20} MB")
        self.limit_bytes = limit_bytes


@dataclass
class StagedFile:
    """Bytes received and hashed, waiting in tmp/ (locked by lock_fd) to be stored or discarded."""

    temp_path: Path
    sha256: str
    size: int
    lock_fd: int | None = None
    created_object: bool = False

    def release(self) -> None:
        self.temp_path.unlink(missing_ok=True)
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def fsync_dir(path: Path) -> None:
    """Make a directory's new entries durable (a file's own fsync does not cover its name)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_sha256(sha256: str) -> None:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")


class EvidenceFileName(NamedTuple):
    """What a path in the evidence store names: an original file (variant None) or a copy made of a photo."""

    sha256: str
    variant: str | None = None


class EvidenceStore:
    """EVIDENCE_DIR: objects/ab/cd/<sha256> holds the files as uploaded; derived/ab/<sha256>-thumb.jpg and
    -print.jpg the copies made of photos (made again from the originals when missing); tmp/ uploads in progress."""

    VARIANTS = ("thumb", "print")
    _OBJECT_PATH = re.compile(r"objects/([0-9a-f]{2})/([0-9a-f]{2})/(?P<sha256>\1\2[0-9a-f]{60})")
    _DERIVED_PATH = re.compile(r"derived/([0-9a-f]{2})/(?P<sha256>\1[0-9a-f]{62})-(?P<variant>thumb|print)\.jpg")

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self.derived = self.root / "derived"

    @staticmethod
    def relative_path(sha256: str) -> str:
        _check_sha256(sha256)
        return f"objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    @classmethod
    def relative_derived_path(cls, sha256: str, variant: str) -> str:
        _check_sha256(sha256)
        if variant not in cls.VARIANTS:
            raise ValueError(f"no copy of a photo is called {variant!r}")
        return f"derived/{sha256[:2]}/{sha256}-{variant}.jpg"

    @classmethod
    def parse(cls, relative: str) -> EvidenceFileName | None:
        """The file a relative path names, or None if no file of this store has that path."""
        if match := cls._OBJECT_PATH.fullmatch(relative):
            return EvidenceFileName(match["sha256"])
        if match := cls._DERIVED_PATH.fullmatch(relative):
            return EvidenceFileName(match["sha256"], match["variant"])
        return None

    def ensure_dirs(self) -> None:
        for directory in (self.objects, self.tmp, self.derived):
            directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / self.relative_path(sha256)

    def derived_path(self, sha256: str, variant: str) -> Path:
        return self.root / self.relative_derived_path(sha256, variant)

    def receive(self, stream: BinaryIO, max_bytes: int) -> StagedFile:
        """Copy `stream` into tmp/ while hashing it; TooLarge (and nothing kept) past max_bytes."""
        self.ensure_dirs()
        digest, size = hashlib.sha256(), 0
        fd, name = tempfile.mkstemp(prefix="upload-", dir=self.tmp)
        staged = StagedFile(Path(name), "", 0, lock_fd=fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "in use" until released, even across hosts' restarts
            with open(os.dup(fd), "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            staged.release()
            raise
        staged.sha256, staged.size = digest.hexdigest(), size
        return staged

    def store(self, staged: StagedFile) -> bool:
        """Link a staged file into objects/; return True if these bytes were not stored before."""
        final = self.path_for(staged.sha256)
        self._make_dirs(final.parent)
        try:
            os.link(staged.temp_path, final)  # fails if present: stored bytes are never replaced
            staged.created_object = True
        except FileExistsError:
            staged.created_object = False
        if staged.created_object:
            os.chmod(final, 0o444)
            fsync_dir(final.parent)
        return staged.created_object

    def finish(self, staged: StagedFile) -> None:
        """After the rows are committed: make sure the object is there, then drop the temporary file."""
        final = self.path_for(staged.sha256)
        if not final.exists():  # removed by a concurrent upload's clean-up after its own failure
            self._make_dirs(final.parent)
            os.link(staged.temp_path, final)
            fsync_dir(final.parent)
        staged.release()

    def discard(self, staged: StagedFile) -> None:
        staged.release()

    def _make_dirs(self, directory: Path) -> None:
        """Create objects/ab/cd and fsync each new level into its parent, so a power cut keeps them."""
        missing = []
        while not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for new in reversed(missing):
            new.mkdir(exist_ok=True)
            fsync_dir(new.parent)

    def remove(self, sha256: str) -> None:
        """Remove an object (and what was derived from it); only for bytes no row refers to."""
        self.path_for(sha256).unlink(missing_ok=True)
        for variant in self.VARIANTS:
            self.derived_path(sha256, variant).unlink(missing_ok=True)

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def hash_of(self, sha256: str) -> str:
        """Re-hash the stored bytes (FileNotFoundError when missing)."""
        digest = hashlib.sha256()
        with open(self.path_for(sha256), "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def clean_stale_temp(self, part_age_seconds: int = 3600) -> int:
        """Remove temporary files nobody holds any more (their writer crashed); return how many.

        Half-written thumbnails (derived/**/*.part) older than `part_age_seconds` go too.
        """
        removed = 0
        if self.tmp.is_dir():
            for path in self.tmp.iterdir():
                try:
                    fd = os.open(path, os.O_RDONLY)
                except FileNotFoundError:
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live upload holds it
                finally:
                    os.close(fd)
                path.unlink(missing_ok=True)
                removed += 1
        if self.derived.is_dir():
            cutoff = time.time() - part_age_seconds
            for path in self.derived.rglob("*.part"):
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed


class NumberedFileStore:
    """A directory of <name>-<id>.pdf files, one per row of a table, each written whole once with its row."""

    NAME = ""  # "dossier", "letter": the file name's prefix, and the word in messages
    FILE_MODE = 0o600

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @classmethod
    def relative_path(cls, number: int) -> str:
        if not isinstance(number, int) or number < 1:
            raise ValueError(f"not a {cls.NAME} number")
        return f"{cls.NAME}-{number}.pdf"

    @classmethod
    def parse(cls, relative: str) -> int | None:
        """The number of the file a relative path names, or None if it names none."""
        match = re.fullmatch(rf"{cls.NAME}-(?P<id>[1-9][0-9]{{0,17}})\.pdf", relative)
        return int(match["id"]) if match else None

    def ensure_dir(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def path_for(self, number: int) -> Path:
        return self.root / self.relative_path(number)

    def stored_files(self) -> list[Path]:
        """The store's files present, in name order (other files in the directory are not the store's)."""
        if not self.root.is_dir():
            return []
        return sorted(path for path in self.root.glob(f"{self.NAME}-*.pdf") if self.parse(path.name) is not None)

    def write(self, number: int, data: bytes) -> Path:
        """Write a file whole or not at all: a temporary file, fsynced, then renamed. Called before the
        row says the file exists, so a file already there under its number was left by a transaction
        that never committed (a crash), and is replaced."""
        path = self.ensure_dir() / self.relative_path(number)
        fd, temp = tempfile.mkstemp(dir=self.root, prefix=".writing-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, self.FILE_MODE)
            os.replace(temp, path)
            fsync_dir(self.root)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return path

    def remove(self, number: int) -> None:
        """Only for a file whose row was never committed."""
        self.path_for(number).unlink(missing_ok=True)


class DossierStore(NumberedFileStore):
    """DOSSIER_DIR: dossier-<id>.pdf, the file issued for each ready dossier row, never changed once written."""

    NAME = "dossier"


class LetterStore(NumberedFileStore):
    """LETTER_DIR: letter-<id>.pdf, the PDF of each right-of-reply letter sent, written once with its row."""

    NAME = "letter"
    FILE_MODE = 0o444


class ImportStagingStore:
    """INSTANCE_DIR/imports: an uploaded CSV waiting for its import, under a random token (never the
    user's file name): <token>.csv, <token>.json (who uploaded it, its name), <token>.importing once
    its import has taken it. Readable by the app only; anything left over is removed after a while."""

    _TOKEN = re.compile(r"[0-9a-f]{32}")
    SUFFIXES = (".csv", ".json", ".importing")

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @classmethod
    def is_token(cls, token: str | None) -> bool:
        return bool(token) and cls._TOKEN.fullmatch(token) is not None

    @classmethod
    def relative_path(cls, token: str, suffix: str = ".csv") -> str:
        if not cls.is_token(token) or suffix not in cls.SUFFIXES:
            raise ValueError("not an import upload's file")
        return f"{token}{suffix}"

    def ensure_dir(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.root

    def path_for(self, token: str, suffix: str = ".csv") -> Path:
        return self.root / self.relative_path(token, suffix)

    def remove(self, token: str) -> None:
        if self.is_token(token):
            for suffix in self.SUFFIXES:
                self.path_for(token, suffix).unlink(missing_ok=True)

    def remove_older_than(self, max_age_seconds: float, now: float | None = None) -> int:
        """Remove files older than `max_age_seconds` (imports never finished); return how many went."""
        if not self.root.is_dir():
            return 0
        cutoff = (now or time.time()) - max_age_seconds
        removed = 0
        for path in self.root.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # removed by another worker meanwhile
                continue
        return removed


def evidence_store() -> EvidenceStore:
    return EvidenceStore(current_app.config["EVIDENCE_DIR"])


def dossier_store() -> DossierStore:
    return DossierStore(current_app.config["DOSSIER_DIR"])


def letter_store() -> LetterStore:
    return LetterStore(current_app.config["LETTER_DIR"])


def import_staging_store() -> ImportStagingStore:
    return ImportStagingStore(Path(current_app.config["INSTANCE_DIR"]) / "imports")
