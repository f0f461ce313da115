"""What a file is, decided from its first bytes, never from its name.

Only the kinds of evidence newsrooms receive are accepted; active content (HTML, SVG,
scripts, executables) and anything unrecognised is refused.
"""
import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 4096


@dataclass(frozen=True)
class FileType:
    media_type: str
    kind: str  # image, pdf, text, email, document, spreadsheet, audio, video
    extension: str
    label: str


JPEG = FileType("image/jpeg", "image", "jpg", "JPEG image")
PNG = FileType("image/png", "image", "png", "PNG image")
GIF = FileType("image/gif", "image", "gif", "GIF image")
WEBP = FileType("image/webp", "image", "webp", "WebP image")
PDF = FileType("application/pdf", "pdf", "pdf", "PDF document")
TEXT = FileType("text/plain", "text", "txt", "Plain text")
EMAIL = FileType("message/rfc822", "email", "eml", "E-mail message")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document", "docx",
                "Word document")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "spreadsheet", "xlsx",
                "Excel spreadsheet")
MP3 = FileType("audio/mpeg", "audio", "mp3", "MP3 audio")
M4A = FileType("audio/mp4", "audio", "m4a", "M4A audio")
WAV = FileType("audio/wav", "audio", "wav", "WAV audio")
OGG = FileType("audio/ogg", "audio", "ogg", "Ogg audio")
MP4 = FileType("video/mp4", "video", "mp4", "MP4 video")

ACCEPTED_DESCRIPTION = ("photos (JPEG, PNG, GIF, WebP), PDF, plain text, e-mails (.eml), Word (.docx) and Excel (.xlsx) "
                        "files, audio (MP3, M4A, WAV, Ogg) and MP4 video")


class RefusedFile(ValueError):
    """The file is not a kind of evidence the app accepts; the message says so plainly."""


_EMAIL_HEADERS = (b"from:", b"to:", b"subject:", b"date:", b"received:", b"return-path:", b"message-id:",
                  b"mime-version:", b"delivered-to:", b"x-", b"content-type:", b"reply-to:", b"cc:")
_ACTIVE_MARKERS = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe", b"<head",
                   b"<object", b"<embed", b"<?php", b"<%")


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the end of the sample
            return False
    return True


def _looks_like_email(head: bytes) -> bool:
    lines = head.lstrip().lower().splitlines()[:12]
    headers = [line for line in lines if line.startswith(_EMAIL_HEADERS) or line[:1] in (b" ", b"\t")]
    named = {line.split(b":", 1)[0] for line in lines if b":" in line}
    return len(headers) >= 2 and bool(named & {b"from", b"subject", b"received", b"message-id"})


def _office_type(path: Path) -> FileType | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def detect(path: Path) -> FileType:
    """The type of the file at `path`, or RefusedFile with the reason."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        raise RefusedFile("The file is empty.")
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"OggS"):
        return OGG
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return M4A if brand in (b"M4A ", b"M4B ") else MP4
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                   and head[1] & 0x06 != 0):
        return MP3
    if head.startswith(b"PK\x03\x04"):
        office = _office_type(path)
        if office:
            return office
        raise RefusedFile("ZIP archives are not accepted; upload the files inside it one by one.")
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")):
        raise RefusedFile("Programs and scripts are not accepted as evidence.")
    if _is_text(head):
        if _looks_like_email(head):  # may carry an HTML part; e-mails are never rendered, only read as text
            return EMAIL
        lowered = head.lower()
        if any(marker in lowered for marker in _ACTIVE_MARKERS):
            raise RefusedFile("Web pages, SVG and other active content are not accepted; "
                              "save the page as PDF or take a screenshot instead.")
        return TEXT
    raise RefusedFile(f"This kind of file is not accepted. Accepted: {ACCEPTED_DESCRIPTION}.")
