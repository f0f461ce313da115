"""Files from the public, received and kept exactly like staff uploads (investigations/evidence):
the same store, the same type checks by content, the same photo checks; fewer files and a lower
total (INTAKE_MAX_FILES, INTAKE_MAX_TOTAL_MB). One file that cannot be taken refuses the whole
sending, so the person can fix it; nothing of a refused sending is kept."""
from dataclasses import dataclass

from flask import current_app

from ..evidence import images
from ..evidence.filetypes import RefusedFile, detect
from ..evidence.services import Upload, UploadResult, display_name, store
from ..models import IntakeFile
from ..storage import TooLarge


class FileProblem(ValueError):
    """A file (or the files together) that cannot be taken; str() is the message for the person."""


@dataclass
class ReceivedFile:
    upload: Upload
    staged: object
    file_type: object
    image_info: images.ImageInfo | None


def limits() -> tuple[int, int, int]:
    """(files per sending, bytes per file, bytes in all)."""
    config = current_app.config
    per_file = config["MAX_UPLOAD_MB"] * 2**20
    return config["INTAKE_MAX_FILES"], min(per_file, config["INTAKE_MAX_TOTAL_MB"] * 2**20), \
        config["INTAKE_MAX_TOTAL_MB"] * 2**20


def limits_text() -> str:
    count, per_file, total = limits()
    return (f"Up to {count} files, {total // 2**20} MB in all (each at most {per_file // 2**20} MB): photos, PDF, "
            f"text, e-mails (.eml), Word, Excel, audio or MP4 video.")


def receive(uploads: list[Upload], result: UploadResult) -> list[ReceivedFile]:
    """Receive and check every file; FileProblem on the first that cannot be taken (the caller then
    calls abandon(result))."""
    max_files, per_file, total = limits()
    if len(uploads) > max_files:
        raise FileProblem(f"You chose {len(uploads)} files; at most {max_files} can be sent. Nothing was sent: "
                          f"choose fewer files and send the form again.")
    evidence_store, received, remaining = store(), [], total
    max_pixels = current_app.config["MAX_IMAGE_MEGAPIXELS"] * 1_000_000
    for upload in uploads:
        name = display_name(upload.filename)
        limit = min(per_file, remaining)
        try:
            staged = evidence_store.receive(upload.stream, limit)
        except TooLarge:
            which = (f"each file may be at most {per_file // 2**20} MB" if limit == per_file
                     else f"all files together may be at most {total // 2**20} MB")
            raise FileProblem(f"“{name}” is too large: {which}. Nothing was sent: choose smaller or fewer files and "
                              f"send the form again.") from None
        result.staged.append(staged)
        remaining -= staged.size
        try:
            file_type = detect(staged.temp_path)
            info = images.inspect(staged.temp_path, max_pixels) if file_type.kind == "image" else None
        except RefusedFile as error:
            raise FileProblem(f"“{name}” cannot be sent: {error} Nothing was sent: remove it and send the form "
                              f"again.") from None
        received.append(ReceivedFile(upload, staged, file_type, info))
    return received


def keep(received: list[ReceivedFile]) -> list[IntakeFile]:
    """Store the received files' bytes and make their rows (the caller adds them to a submission)."""
    evidence_store, rows = store(), []
    for item in received:
        evidence_store.store(item.staged)
        row = IntakeFile(sha256=item.staged.sha256, size=item.staged.size, media_type=item.file_type.media_type,
                         kind=item.file_type.kind, type_label=item.file_type.label,
                         original_name=display_name(item.upload.filename))
        if item.image_info:
            row.width, row.height = item.image_info.width, item.image_info.height
            row.gps_location = item.image_info.gps_location
        rows.append(row)
    return rows
