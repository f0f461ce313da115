"""Evidence files on disk, content-addressed by SHA-256.

A file is streamed into tmp/ while it is hashed, fsynced, then linked into
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
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


class EvidenceStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self.derived = self.root / "derived"  # thumbnails and print copies, rebuilt from objects

    def ensure_dirs(self) -> None:
        for directory in (self.objects, self.tmp, self.derived):
            directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def derived_path(self, sha256: str, variant: str) -> Path:
        self.path_for(sha256)  # validates the digest
        return self.derived / sha256[:2] / f"{sha256}-{variant}.jpg"

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
        for variant in ("thumb", "print"):
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
