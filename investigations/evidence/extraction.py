"""Reading the text out of evidence, so that it can be searched.

PDFs, plain text, e-mails (headers and body), Word and Excel files are read directly;
photos and scanned PDF pages are read by OCR with Tesseract when it is installed.
"""
import email
import email.policy
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from defusedxml import ElementTree  # refuses entity expansion (billion laughs)
from PIL import Image, ImageOps

MAX_TEXT_CHARS = 200_000  # kept per file; enough for search, small enough for the database
OCR_MAX_PAGES = 20
OCR_TIMEOUT_SECONDS = 120
MAX_XML_BYTES = 20 * 2**20


class NothingToExtract(Exception):
    """Audio, video, or OCR needed but unavailable: not a failure."""


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


MAX_HTML_CHARS = 2_000_000
OCR_MAX_PIXELS = 25_000_000  # per page: about A4 at 300 dpi is 8.7 million


def _cap(text: str) -> str:
    text = text[: MAX_TEXT_CHARS * 2].replace("\x00", "")  # PostgreSQL refuses NUL in text
    text = re.sub(r"[ \t]+\n", "\n", text).strip()
    return text[:MAX_TEXT_CHARS]


def _ocr_image(image: Image.Image) -> str:
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "page.png"
        ImageOps.exif_transpose(image).convert("L").save(source)
        # OCR runs beside the web worker that received the file: at a lower priority and on one
        # thread, so that pages keep being served while it reads.
        nice = ["nice", "-n", "10"] if shutil.which("nice") else []
        result = subprocess.run([*nice, "tesseract", str(source), "stdout", "-l", "eng"], capture_output=True,
                                timeout=OCR_TIMEOUT_SECONDS, check=False, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    if result.returncode != 0:
        raise RuntimeError(result.stderr.decode("utf-8", "replace").strip()[:300] or "tesseract failed")
    return result.stdout.decode("utf-8", "replace")


def _from_image(path: Path) -> tuple[str, str]:
    if not ocr_available():
        raise NothingToExtract("OCR is off: Tesseract is not installed.")
    with Image.open(path) as image:
        if max(image.size) > 4000:  # OCR does not need more, and large photos are slow
            image.thumbnail((4000, 4000))
        return _ocr_image(image), "ocr"


def _from_pdf(path: Path) -> tuple[str, str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        pages = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
        text = "\n\n".join(pages)
        if len(text.strip()) >= 20 * max(len(pdf), 1) or not ocr_available():
            return text, "pdf-text"
        # Little or no text layer: a scan. Read the first pages by OCR.
        scanned = []
        for i in range(min(len(pdf), OCR_MAX_PAGES)):
            width, height = pdf[i].get_size()  # in points
            # 300 dpi, but never more pixels than OCR_MAX_PIXELS, whatever size the page claims to be
            scale = min(300 / 72, (OCR_MAX_PIXELS / max(width * height, 1)) ** 0.5)
            bitmap = pdf[i].render(scale=scale)
            scanned.append(_ocr_image(bitmap.to_pil()))
        return "\n\n".join(scanned), "ocr"
    finally:
        pdf.close()


def _from_text(path: Path) -> tuple[str, str]:
    data = path.read_bytes()[: MAX_TEXT_CHARS * 4]
    return data.decode("utf-8", "replace"), "text"


class _TextOfHTML(HTMLParser):
    """Collects the text of an HTML e-mail part, skipping scripts and styles (linear time)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def _strip_html(markup: str) -> str:
    parser = _TextOfHTML()
    parser.feed(markup[:MAX_HTML_CHARS])
    parser.close()
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts))


def _from_email(path: Path) -> tuple[str, str]:
    with open(path, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    lines = [f"{name}: {message[name]}" for name in ("From", "To", "Cc", "Date", "Subject") if message[name]]
    plain, markup, attachments = [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_filename():
            attachments.append(part.get_filename())
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):
            continue
        if part.get_content_type() == "text/plain" and isinstance(content, str):
            plain.append(content)
        elif part.get_content_type() == "text/html" and isinstance(content, str):
            markup.append(_strip_html(content))
    body = "\n".join(plain) or "\n".join(markup)
    if attachments:
        lines.append("Attachments: " + ", ".join(attachments))
    return "\n".join(lines) + "\n\n" + body, "email"


def _xml_text(archive: zipfile.ZipFile, name: str, paragraph_tag: str) -> str:
    """The text of each paragraph, read as a stream and stopped once there is enough."""
    info = archive.getinfo(name)
    if info.file_size > MAX_XML_BYTES:
        raise ValueError("The document is too large to read.")
    paragraphs, total = [], 0
    with archive.open(info) as stream:
        for _event, element in ElementTree.iterparse(stream, events=("end",)):
            if element.tag.endswith(paragraph_tag):
                text = "".join(node.text or "" for node in element.iter() if node.tag.endswith("}t"))
                if text:
                    paragraphs.append(text)
                    total += len(text) + 1
                element.clear()
                if total > MAX_TEXT_CHARS:
                    break
    return "\n".join(paragraphs)


def _from_docx(path: Path) -> tuple[str, str]:
    with zipfile.ZipFile(path) as archive:
        return _xml_text(archive, "word/document.xml", "}p"), "docx"


def _from_xlsx(path: Path) -> tuple[str, str]:
    with zipfile.ZipFile(path) as archive:
        if "xl/sharedStrings.xml" not in archive.namelist():
            return "", "xlsx"
        return _xml_text(archive, "xl/sharedStrings.xml", "}si"), "xlsx"


READERS = {
    "image": _from_image,
    "pdf": _from_pdf,
    "text": _from_text,
    "email": _from_email,
    "document": _from_docx,
    "spreadsheet": _from_xlsx,
}


def extract_text(path: Path, kind: str) -> tuple[str, str]:
    """(text, method) for a stored file. NothingToExtract when the kind holds no text."""
    reader = READERS.get(kind)
    if reader is None:
        raise NothingToExtract(f"No text is read from {kind} files.")
    text, method = reader(path)
    return _cap(text), method
