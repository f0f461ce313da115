"""CSV files uploaded for the two-step generic import, kept between the upload and the mapping.

Stored under INSTANCE_DIR/imports/ with a random name (never the user's), readable only by the
app, tied to the editor who uploaded them; removed after the import, or after a day.
"""
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..evidence.services import display_name
from ..models import User
from ..storage import import_staging_store

MAX_AGE_SECONDS = 24 * 60 * 60
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class StoredUpload:
    token: str
    path: Path
    name: str  # the uploaded file's name, for display only
    user_id: int


def upload_dir() -> Path:
    return import_staging_store().root


def _paths(token: str) -> tuple[Path, Path]:
    directory = upload_dir()
    return directory / f"{token}.csv", directory / f"{token}.json"


def store_upload(stream: BinaryIO, filename: str | None, user: User) -> StoredUpload:
    remove_expired()
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_hex(16)
    path, meta = _paths(token)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
    upload = StoredUpload(token, path, display_name(filename), user.id)
    meta.write_text(json.dumps({"name": upload.name, "user_id": user.id}))
    return upload


def _owned(token: str | None, user: User) -> tuple[Path, dict] | None:
    if not token or not _TOKEN.match(token):
        return None
    path, meta = _paths(token)
    try:
        details = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return (path, details) if details.get("user_id") == user.id else None


def get_upload(token: str | None, user: User) -> StoredUpload | None:
    """The upload behind `token` if it is still here, not yet taken for its import, and `user` uploaded it."""
    remove_expired()
    owned = _owned(token, user)
    if owned is None or not owned[0].exists():
        return None
    return StoredUpload(token, owned[0], owned[1].get("name", "upload.csv"), user.id)


def is_being_imported(token: str | None, user: User) -> bool:
    owned = _owned(token, user)
    return owned is not None and owned[0].with_suffix(".importing").exists()


def claim_upload(upload: StoredUpload) -> Path | None:
    """Take the upload for its import, once: the same form sent twice (a double click) finds it
    already taken (None). Returns the file to import from."""
    claimed = upload.path.with_suffix(".importing")
    try:
        os.rename(upload.path, claimed)
    except FileNotFoundError:
        return None
    return claimed


def remove_upload(token: str) -> None:
    if _TOKEN.match(token or ""):
        csv, meta = _paths(token)
        for path in (csv, meta, csv.with_suffix(".importing")):
            path.unlink(missing_ok=True)


def remove_expired(now: float | None = None) -> int:
    """Remove uploads older than a day (an import that was never finished); return how many files went."""
    return import_staging_store().remove_older_than(MAX_AGE_SECONDS, now)
