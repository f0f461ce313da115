"""Hashing and copying files in and out of a backup; every byte copied is hashed on the way."""
import errno
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..storage import fsync_dir
from .errors import BackupError

CHUNK = 1024 * 1024

Update = Callable[[int], None] | None


def _hash_copy(reader: BinaryIO, writer: BinaryIO | None, update: Update) -> tuple[str, int]:
    """Read `reader` to its end and return its (SHA-256, size); also write it to `writer`, fsynced, if given."""
    digest, size = hashlib.sha256(), 0
    while chunk := reader.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if writer:
            writer.write(chunk)
        if update:
            update(len(chunk))
    if writer:
        writer.flush()
        os.fsync(writer.fileno())
    return digest.hexdigest(), size


def hash_file(path: Path, update: Update = None) -> tuple[str, int]:
    """(SHA-256, size) of a file, reporting the bytes read to `update`."""
    with open(path, "rb") as reader:
        return _hash_copy(reader, None, update)


def copy_hashing(source: Path, dest: Path, update: Update = None) -> tuple[str, int]:
    """Copy `source` to the new file `dest` (never replacing one), hashing as it goes; fsynced."""
    with open(source, "rb") as reader, open(dest, "xb") as writer:
        return _hash_copy(reader, writer, update)


class FilePlacer:
    """Put a live file into the backup: a hard link when possible (the live files are never
    changed in place), else a copy; return its (SHA-256, size), hashed from what was placed."""

    def __init__(self, link: bool):
        self.link = link
        self.linked = self.copied = 0

    def place(self, source: Path, dest: Path, update: Update = None) -> tuple[str, int]:
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.link:
            try:
                os.link(source, dest)
            except FileNotFoundError:
                raise
            except OSError as error:
                if error.errno == errno.EXDEV:  # another filesystem: copy from now on
                    self.link = False
                elif error.errno not in (errno.EPERM, errno.EACCES, errno.EMLINK, errno.ENOTSUP):
                    raise
            else:
                self.linked += 1
                return hash_file(dest, update)
        self.copied += 1
        try:
            return copy_hashing(source, dest, update)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise


def install_file(source: Path, dest: Path, temp_dir: Path, expected_sha256: str, update: Update = None,
                 mode: int = 0o444, replace: bool = True) -> None:
    """Copy `source` to `dest` by way of a temporary file in `temp_dir` (locked while it is written, so
    EvidenceStore.clean_stale_temp leaves it alone), checking its SHA-256 on the way. With
    replace=False (evidence objects) an existing `dest` is never replaced."""
    fd, name = tempfile.mkstemp(prefix="restore-", dir=temp_dir)
    temp = Path(name)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with open(source, "rb") as reader, open(os.dup(fd), "wb") as writer:
            sha256, _ = _hash_copy(reader, writer, update)
        if sha256 != expected_sha256:
            raise BackupError(f"{source} changed while it was being restored (SHA-256 {sha256}, "
                              f"expected {expected_sha256}).")
        os.chmod(temp, mode)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if replace:
            os.replace(temp, dest)
        else:
            os.link(temp, dest)
        fsync_dir(dest.parent)
    finally:
        temp.unlink(missing_ok=True)
        os.close(fd)
