"""CSV files uploaded for the two-step generic import, kept between the upload and the mapping.

Stored under INSTANCE_DIR/imports/ with a random name (never the user's), readable only by the
app, tied to the editor who uploaded them; removed after the import, or after a day.
"""
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from ..evidence.services import display_name
from ..models import User

MAX_AGE_SECONDS = 24 * 60 * 60
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class StoredUpload:
    token: str
    path: Path
    name: str  # the uploaded file's name, for display only
    user_id: int


def upload_dir() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "imports"


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


def get_upload(token: str | None, user: User) -> StoredUpload | None:
    """The upload behind `token` if it is still here and `user` uploaded it."""
    if not token or not _TOKEN.match(token):
        return None
    remove_expired()
    path, meta = _paths(token)
    try:
        details = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    if details.get("user_id") != user.id or not path.exists():
        return None
    return StoredUpload(token, path, details.get("name", "upload.csv"), user.id)


def remove_upload(token: str) -> None:
    if _TOKEN.match(token or ""):
        for path in _paths(token):
            path.unlink(missing_ok=True)


def remove_expired(now: float | None = None) -> int:
    """Remove uploads older than a day (an import that was never finished); return how many files went."""
    directory = upload_dir()
    if not directory.is_dir():
        return 0
    cutoff = (now or time.time()) - MAX_AGE_SECONDS
    removed = 0
    for path in directory.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # removed by another worker meanwhile
            continue
    return removed
