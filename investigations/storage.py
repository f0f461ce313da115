"""Evidence files on disk, content-addressed by SHA-256.

A file is streamed into tmp/ while it is hashed, fsynced, then linked into
objects/ab/cd/<sha256> (a link never replaces an existing file, so stored bytes are
never overwritten) and made read-only. The database row is written only after that;
callers remove a newly stored object again if their transaction fails. Temporary files
left by a crashed process are removed at the next start.
"""
import hashlib
import os
import socket
import tempfile
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
    """Bytes received and hashed, waiting in tmp/ to be stored or discarded."""

    temp_path: Path
    sha256: str
    size: int


def _fsync_dir(path: Path) -> None:
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

    def _temp_prefix(self) -> str:
        return f"{socket.gethostname()}~{os.getpid()}~"

    def receive(self, stream: BinaryIO, max_bytes: int) -> StagedFile:
        """Copy `stream` into tmp/ while hashing it; TooLarge (and nothing kept) past max_bytes."""
        self.ensure_dirs()
        digest, size = hashlib.sha256(), 0
        fd, name = tempfile.mkstemp(prefix=self._temp_prefix(), dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return StagedFile(Path(name), digest.hexdigest(), size)

    def store(self, staged: StagedFile) -> bool:
        """Move a staged file into objects/; return True if these bytes were not stored before."""
        final = self.path_for(staged.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(staged.temp_path, final)  # fails if present: stored bytes are never replaced
            created = True
        except FileExistsError:
            created = False
        staged.temp_path.unlink(missing_ok=True)
        if created:
            os.chmod(final, 0o444)
            _fsync_dir(final.parent)
        return created

    def discard(self, staged: StagedFile) -> None:
        staged.temp_path.unlink(missing_ok=True)

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

    def clean_stale_temp(self) -> int:
        """Remove temporary files of processes on this host that no longer run; return how many."""
        if not self.tmp.is_dir():
            return 0
        host = socket.gethostname()
        removed = 0
        for path in self.tmp.iterdir():
            parts = path.name.split("~")
            if len(parts) < 3 or parts[0] != host or not parts[1].isdigit():
                continue
            if not _process_alive(int(parts[1])):
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
