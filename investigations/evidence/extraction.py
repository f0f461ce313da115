"""Reading the text out of evidence, so that it can be searched.

PDFs, plain text, e-mails (headers and body), Word and Excel files are read directly;
photos and scanned PDF pages are read by OCR with Tesseract when it is installed.

The web app reads each file in a child process (`extract_in_child`) with a memory and a time
limit, so that no file can take a worker down. The child runs this module as a script: it needs
nothing but the file, its kind and the limits (no Flask app, no database), so it imports only
what reading needs and starts quickly. Keep it that way: no imports from the rest of the package.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from defusedxml import ElementTree  # refuses entity expansion (billion laughs)

# PIL, pypdfium2 and the e-mail package are imported by the readers that need them: the child
# process starts for every file, and most files need only one of them.

MAX_TEXT_CHARS = 200_000  # kept per file; enough for search, small enough for the database
OCR_MAX_PAGES = 20
OCR_TIMEOUT_SECONDS = 120
MAX_XML_BYTES = 20 * 2**20
MAX_XML_ELEMENTS = 500_000  # the default of the EXTRACTION_MAX_ELEMENTS setting
MAX_XML_DEPTH = 2_000  # real documents nest a few dozen levels
TOO_MANY_ELEMENTS = "Text extraction stopped: too many elements"
TOO_DEEP = "Text extraction stopped: elements nested too deeply"


class NothingToExtract(Exception):
    """Audio, video, or OCR needed but unavailable: not a failure."""


class ExtractionStopped(Exception):
    """The child process reading a file hit its memory or time limit (or died); the message says which."""


@dataclass
class Extracted:
    text: str
    method: str
    note: str | None = None  # what was left unread, e.g. TOO_MANY_ELEMENTS: the text is what came before


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


MAX_HTML_CHARS = 2_000_000
OCR_MAX_PIXELS = 25_000_000  # per page: about A4 at 300 dpi is 8.7 million


def _cap(text: str) -> str:
    text = text[: MAX_TEXT_CHARS * 2].replace("\x00", "")  # PostgreSQL refuses NUL in text
    text = re.sub(r"[ \t]+\n", "\n", text).strip()
    return text[:MAX_TEXT_CHARS]


def _ocr_image(image) -> str:
    from PIL import ImageOps

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
    from PIL import Image

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
    import email
    import email.policy

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


def _xml_text(archive: zipfile.ZipFile, name: str, paragraph_tag: str,
              max_elements: int = MAX_XML_ELEMENTS) -> tuple[str, str | None]:
    """(the text of each paragraph, note) read as a stream within an element budget.

    Every element is freed once it has ended (cleared and taken off its parent), so memory does
    not grow with the number of elements; after `max_elements` elements, or deeper than
    MAX_XML_DEPTH, reading stops and the note says so: the text read until then is kept.
    """
    info = archive.getinfo(name)
    if info.file_size > MAX_XML_BYTES:
        raise ValueError("The document is too large to read.")
    paragraphs: list[str] = []
    runs: list[str] = []  # text of the paragraph being read
    open_elements: list = []  # the elements started and not yet ended: the only ones kept
    total = count = 0
    note = None
    with archive.open(info) as stream:
        # defusedxml's iterparse: entity declarations and external references are still refused.
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            if event == "start":
                count += 1
                if count > max_elements:
                    note = TOO_MANY_ELEMENTS
                    break
                if len(open_elements) >= MAX_XML_DEPTH:
                    note = TOO_DEEP
                    break
                open_elements.append(element)
                continue
            open_elements.pop()
            tag = element.tag
            if tag.endswith("}t"):
                if element.text:
                    runs.append(element.text)
            elif tag.endswith(paragraph_tag):
                text = "".join(runs)
                runs.clear()
                if text:
                    paragraphs.append(text)
                    total += len(text) + 1
            element.clear()
            if open_elements:  # its only child by now: each earlier sibling was removed when it ended
                open_elements[-1].remove(element)
            if total > MAX_TEXT_CHARS:
                break
    if runs:
        paragraphs.append("".join(runs))
    return "\n".join(paragraphs), note


def _from_docx(path: Path, max_elements: int = MAX_XML_ELEMENTS) -> Extracted:
    with zipfile.ZipFile(path) as archive:
        text, note = _xml_text(archive, "word/document.xml", "}p", max_elements)
    return Extracted(text, "docx", note)


def _from_xlsx(path: Path, max_elements: int = MAX_XML_ELEMENTS) -> Extracted:
    with zipfile.ZipFile(path) as archive:
        if "xl/sharedStrings.xml" not in archive.namelist():
            return Extracted("", "xlsx")
        text, note = _xml_text(archive, "xl/sharedStrings.xml", "}si", max_elements)
    return Extracted(text, "xlsx", note)


READERS = {
    "image": _from_image,
    "pdf": _from_pdf,
    "text": _from_text,
    "email": _from_email,
}
OFFICE_READERS = {  # XML inside a zip: read within the element budget
    "document": _from_docx,
    "spreadsheet": _from_xlsx,
}


def extract_text(path: Path, kind: str, max_elements: int = MAX_XML_ELEMENTS) -> Extracted:
    """The text of a stored file, in this process. NothingToExtract when the kind holds no text."""
    if kind in OFFICE_READERS:
        result = OFFICE_READERS[kind](path, max_elements)
    elif kind in READERS:
        result = Extracted(*READERS[kind](path))
    else:
        raise NothingToExtract(f"No text is read from {kind} files.")
    result.text = _cap(result.text)
    return result


# --- In a child process, with limits ---------------------------------------------------------

OUT_OF_MEMORY_EXIT = 75  # the child's exit status when reading ran out of its memory limit


def extract_in_child(path: Path, kind: str, *, memory_mb: int, seconds: int,
                     max_elements: int = MAX_XML_ELEMENTS) -> Extracted:
    """extract_text() in a new Python process limited to `memory_mb` of address space and
    `seconds` of time (OCR's Tesseract, started by the child, is under the same memory limit and
    is stopped with it). ExtractionStopped when a limit was hit; NothingToExtract as in-process;
    RuntimeError with the reader's message for a damaged file."""
    if kind not in READERS and kind not in OFFICE_READERS:
        raise NothingToExtract(f"No text is read from {kind} files.")
    request = json.dumps({"path": str(path), "kind": kind, "memory_mb": memory_mb, "max_elements": max_elements})
    # -P: the script's folder is not put on sys.path (its modules would shadow others); its own
    # session, so that a time-out stops Tesseract too.
    child = subprocess.Popen([sys.executable, "-P", __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True, close_fds=True)
    try:
        out, err = child.communicate(request.encode(), timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        child.communicate()
        raise ExtractionStopped(f"Text extraction stopped: the file took longer than {seconds} s") from None
    except BaseException:
        _kill_group(child)
        child.communicate()
        raise
    _kill_group(child)  # anything it left running
    if child.returncode == OUT_OF_MEMORY_EXIT:
        raise ExtractionStopped(f"Text extraction stopped: the file needed more than {memory_mb} MB")
    if child.returncode < 0:  # a library may abort or crash instead of raising MemoryError
        name = signal.Signals(-child.returncode).name if -child.returncode in signal.valid_signals() else "a signal"
        raise ExtractionStopped(f"Text extraction stopped: the reader was ended by {name} "
                                f"(it may have needed more than {memory_mb} MB)")
    try:
        answer = json.loads(out)
    except ValueError:
        detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no answer"]
        raise RuntimeError(f"The text reader failed: {detail[0][:300]}") from None
    if "nothing" in answer:
        raise NothingToExtract(answer["nothing"])
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return Extracted(answer["text"], answer["method"], answer.get("note"))


def _kill_group(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _child_main() -> None:
    """The child's side: read the request from stdin, answer one line of JSON on stdout."""
    answer_to = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the answer
    sys.stdout = sys.stderr
    request = json.loads(sys.stdin.read())
    try:
        import resource

        limit = request["memory_mb"] * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError) as error:  # no rlimits here: the time limit still holds
        print(f"memory limit not set: {error}", file=sys.stderr)
    try:
        result = extract_text(Path(request["path"]), request["kind"], request["max_elements"])
        answer = {"text": result.text, "method": result.method, "note": result.note}
    except MemoryError:
        os._exit(OUT_OF_MEMORY_EXIT)  # at once: the answer itself might not find the memory
    except NothingToExtract as reason:
        answer = {"nothing": str(reason)}
    except Exception as error:  # a damaged file: its reader's message
        answer = {"error": (str(error) or error.__class__.__name__)[:500]}
    json.dump(answer, answer_to)
    answer_to.close()


if __name__ == "__main__":
    _child_main()
