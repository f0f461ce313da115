"""Reading the text out of evidence, so that it can be searched.

PDFs, plain text, e-mails (headers and body), Word and Excel files are read directly;
photos and scanned PDF pages are read by OCR with Tesseract when it is installed.
"""
import email
import email.policy
import html
import re
import shutil
import subprocess
import tempfile
import zipfile
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


def _cap(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text).strip()
    return text[:MAX_TEXT_CHARS]


def _ocr_image(image: Image.Image) -> str:
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "page.png"
        ImageOps.exif_transpose(image).convert("L").save(source)
        result = subprocess.run(["tesseract", str(source), "stdout", "-l", "eng"], capture_output=True,
                                timeout=OCR_TIMEOUT_SECONDS, check=False)
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
            bitmap = pdf[i].render(scale=300 / 72)
            scanned.append(_ocr_image(bitmap.to_pil()))
        return "\n\n".join(scanned), "ocr"
    finally:
        pdf.close()


def _from_text(path: Path) -> tuple[str, str]:
    data = path.read_bytes()[: MAX_TEXT_CHARS * 4]
    return data.decode("utf-8", "replace"), "text"


def _strip_html(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style).*?</\1>", " ", markup)
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


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
    info = archive.getinfo(name)
    if info.file_size > MAX_XML_BYTES:
        raise ValueError("The document is too large to read.")
    root = ElementTree.fromstring(archive.read(name))
    paragraphs = []
    for paragraph in root.iter():
        if paragraph.tag.endswith(paragraph_tag):
            paragraphs.append("".join(node.text or "" for node in paragraph.iter() if node.tag.endswith("}t")))
    return "\n".join(p for p in paragraphs if p)


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
