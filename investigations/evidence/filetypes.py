"""What a file is, decided from its first bytes, never from its name.

Only the kinds of evidence newsrooms receive are accepted; active content (HTML, SVG,
scripts, executables) and anything unrecognised is refused.
"""
import re
import struct
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

ALL_TYPES = (JPEG, PNG, GIF, WEBP, PDF, TEXT, EMAIL, DOCX, XLSX, MP3, M4A, WAV, OGG, MP4)
EXTENSIONS = {file_type.media_type: file_type.extension for file_type in ALL_TYPES}

ACCEPTED_DESCRIPTION = ("photos (JPEG, PNG, GIF, WebP), PDF, plain text, e-mails (.eml), Word (.docx) and Excel (.xlsx) "
                        "files, audio (MP3, M4A, WAV, Ogg) and MP4 video")


class RefusedFile(ValueError):
    """The file is not a kind of evidence the app accepts; the message says so plainly."""


_ACTIVE_MARKERS = ("<!doctype html", "<html", "<script", "<svg", "<?xml", "<body", "<iframe", "<head",
                   "<object", "<embed", "<?php", "<%")
_EMAIL_KEYS = {"from", "subject", "received", "message-id", "return-path", "delivered-to"}
_HEADER_LINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*:")
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"3gp4",
               b"3gp5", b"3g2a", b"MSNV"}
_M4A_BRANDS = {b"M4A ", b"M4B "}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_DIRECTORY = 4 * 2**20


def _decode_text(head: bytes) -> str | None:
    """The sample as text, if it is text: UTF-8 (with or without BOM), UTF-16/32 with BOM, or Windows-1252."""
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                       (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"\xef\xbb\xbf", "utf-8")):
        if head.startswith(bom):
            sample = head[len(bom):]
            sample = sample[: len(sample) - len(sample) % (4 if "32" in codec else 2 if "16" in codec else 1)]
            text = sample.decode(codec, "replace")
            return text if "\x00" not in text else None
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 4:  # only a character cut at the end of the sample
            return head[: error.start].decode("utf-8")
    text = head.decode("cp1252", "replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return text if controls == 0 and text.count("\ufffd") < 4 else None


def _looks_like_email(text: str) -> bool:
    """Header lines ("Name: value", or indented continuations) up to the first blank line."""
    block = text.replace("\r\n", "\n").lstrip("\n").split("\n\n", 1)[0]
    lines = [line for line in block.split("\n") if line]
    if len(lines) < 2 or not all(_HEADER_LINE.match(line) or line[:1] in (" ", "\t") for line in lines):
        return False
    names = {line.split(":", 1)[0].lower() for line in lines if _HEADER_LINE.match(line)}
    return bool(names & _EMAIL_KEYS)


_MP3_BITRATES = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0]
_MP3_RATES = [44100, 48000, 32000, 0]


def _mp3_frame_length(head: bytes, offset: int) -> int | None:
    """Length of an MPEG-1 layer III frame starting at offset, or None if there is none."""
    if offset + 4 > len(head):
        return None
    b1, b2, b3 = head[offset + 1], head[offset + 2], head[offset + 3]
    if head[offset] != 0xFF or b1 & 0xFE != 0xFA:  # sync, MPEG-1, layer III
        return None
    bitrate, rate = _MP3_BITRATES[b2 >> 4], _MP3_RATES[(b2 >> 2) & 3]
    if not bitrate or not rate or b3 >> 6 == 2:
        return None
    return 144_000 * bitrate // rate + ((b2 >> 1) & 1)


def _is_mp3(head: bytes) -> bool:
    if head.startswith(b"ID3"):
        return True
    length = _mp3_frame_length(head, 0)  # a frame, then another where the first one ends
    return bool(length) and _mp3_frame_length(head, length) is not None


def _zip_directory_size(path: Path) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the end-of-archive record, without reading the directory."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 65_557))
        tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    entries, directory = struct.unpack("<HI", tail[at + 10: at + 16])
    return entries, directory


def _office_type(path: Path) -> FileType | None:
    sizes = _zip_directory_size(path)
    if sizes is None:
        return None
    entries, directory = sizes
    if entries >= 0xFFFF or entries > MAX_ZIP_ENTRIES or directory > MAX_ZIP_DIRECTORY:
        raise RefusedFile("This archive holds too many entries to be an Office document.")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            info = archive.getinfo("[Content_Types].xml") if "[Content_Types].xml" in names else None
            types = archive.read(info)[:65_536] if info and info.file_size < 1_048_576 else b""
    except Exception:  # malformed archives fail in many ways; none of them is an Office document
        return None
    lowered = {name.lower() for name in names}
    if any("vbaproject" in name or "activex" in name for name in lowered) or b"macroEnabled" in types:
        raise RefusedFile("Office files with macros or ActiveX controls are not accepted; "
                          "save it as a plain .docx or .xlsx, or as PDF.")
    if "word/document.xml" in names and b"wordprocessingml.document.main+xml" in types:
        return DOCX
    if "xl/workbook.xml" in names and b"spreadsheetml.sheet.main+xml" in types:
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
        size = struct.unpack(">I", head[:4])[0]
        brands = {head[8:12]} | {head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        if head[8:12] in _HEIF_BRANDS:
            raise RefusedFile("HEIC and AVIF photos are not accepted yet; send them as JPEG "
                              "(on an iPhone: Settings → Camera → Formats → Most Compatible).")
        if brands & _M4A_BRANDS:
            return M4A
        if brands & _MP4_BRANDS:
            return MP4
        raise RefusedFile("This video format is not accepted; convert it to MP4.")
    if head.startswith(b"PK\x03\x04"):
        office = _office_type(path)
        if office:
            return office
        raise RefusedFile("ZIP archives are not accepted; upload the files inside it one by one.")
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")):
        raise RefusedFile("Programs and scripts are not accepted as evidence.")
    text = _decode_text(head)
    if text is not None:
        if _looks_like_email(text):  # may carry an HTML part; e-mails are never rendered, only read
            return EMAIL
        lowered = text.lower()
        if any(marker in lowered for marker in _ACTIVE_MARKERS):
            raise RefusedFile("Web pages, SVG and other active content are not accepted; "
                              "save the page as PDF or take a screenshot instead.")
        return TEXT
    if _is_mp3(head):
        return MP3
    raise RefusedFile(f"This kind of file is not accepted. Accepted: {ACCEPTED_DESCRIPTION}.")
