"""Turning dossier templates into PDFs with WeasyPrint, through a URL fetcher that can reach
nothing but the app's own static files and the evidence of the cases in the dossier."""
import gc
import mimetypes
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

try:
    from weasyprint import HTML, Attachment
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    UNAVAILABLE = None
except OSError as error:  # WeasyPrint loads Pango when imported; the rest of the app runs without it
    HTML = Attachment = URLFetcherResponse = None
    URLFetcher = object
    UNAVAILABLE = ("PDF dossiers need the Pango library on this server (apt-get install libpango-1.0-0 "
                   f"libpangoft2-1.0-0): {error}")

from ..storage import EvidenceStore

BASE_URL = "dossier://app/"


def static_url(path: str) -> str:
    return f"{BASE_URL}static/{path}"


def photo_url(sha256: str) -> str:
    return f"{BASE_URL}evidence/{sha256}/print"


def original_url(sha256: str) -> str:
    return f"{BASE_URL}evidence/{sha256}/original"


class RefusedURL(ValueError):
    pass


class DossierURLFetcher(URLFetcher):
    """Serves dossier://app/static/… from the static folder and dossier://app/evidence/<sha>/…
    for the evidence in the dossier; refuses everything else (http, https, file, data, …)."""

    def __init__(self, static_root: Path, store: EvidenceStore, allowed_hashes: set[str]):
        super().__init__(allowed_protocols={"dossier"})
        self.static_root = static_root.resolve()
        self.store = store
        self.allowed_hashes = allowed_hashes
        self.served: list[str] = []
        self.refused: list[str] = []
        self.missing: list[str] = []  # allowed, but the stored file is not there

    def fetch(self, url, headers=None):
        try:
            path = self._resolve(url)
        except RefusedURL:
            self.refused.append(url)
            raise
        if not path.is_file():
            self.missing.append(url)
            raise FileNotFoundError(url)
        self.served.append(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if "/evidence/" in url:
            content_type = "image/jpeg" if url.endswith("/print") else "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    def _resolve(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme != "dossier" or parts.netloc != "app" or parts.query or ".." in unquote(parts.path):
            raise RefusedURL(f"Refused: {url}")
        segments = unquote(parts.path).lstrip("/").split("/")
        if segments[0] == "static" and len(segments) > 1:
            path = (self.static_root / "/".join(segments[1:])).resolve()
            if self.static_root in path.parents and path.is_file():
                return path
        elif segments[0] == "evidence" and len(segments) == 3 and segments[1] in self.allowed_hashes:
            if segments[2] == "print":
                return self.store.derived_path(segments[1], "print")
            if segments[2] == "original":
                return self.store.path_for(segments[1])
        raise RefusedURL(f"Refused: {url}")


@dataclass
class RenderedPDF:
    data: bytes
    pages: int
    fetcher: DossierURLFetcher
    warnings: list[str] = field(default_factory=list)


def attachment_name(item, shown_name: str) -> str:
    """The file name inside the PDF: the evidence id and the name the audience may read."""
    return re.sub(r"[^\w.\- ]+", "_", f"{item.id}-{shown_name}")


@dataclass(frozen=True)
class DataFile:
    """A file the app writes into the dossier (the manifest, the case data)."""

    name: str
    data: bytes
    description: str


PDF_VARIANT = "pdf/a-3b"  # archival (ISO 19005-3): fonts embedded, sRGB output intent, XMP metadata, files attached


class DossierError(RuntimeError):
    """No dossier could be issued; the message says why, for the person exporting it."""


class MissingEvidence(DossierError):
    """A stored file the dossier needs is not there; no incomplete dossier is issued."""


@contextmanager
def _one_garbage_collection():
    """Let WeasyPrint work without the cyclic garbage collector, then collect once.

    Laying out a long dossier makes hundreds of thousands of objects (boxes, styles, text layouts:
    ~360,000 of them left in reference cycles by a 1,000-case business dossier), and they kept
    triggering collections that walked the whole app heap again: 1.2 to 3 s of a 5 s export on a busy
    2-core machine. Everything made meanwhile stays in the youngest generation, so one collection of
    that generation at the end frees the render's garbage without walking the rest of the heap
    (~0.4 s for 1,000 cases; bench/dossier_bench.py). Garbage waits until then: ~55 MB more at the
    peak for 1,000 cases. The collector is process-wide: it is switched back on only if it was on,
    so a render in another thread, or an app that runs without it, is left as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(0)


def render_pdf(template: str, evidence_items: list, originals: list = (), data_files: list[DataFile] = (),
               **context) -> RenderedPDF:
    """Render a dossier template to a PDF/A-3b file. Only the given evidence can be embedded;
    `originals`, (file, name to show) pairs, are attached as they were received, and `data_files`
    (the manifest and the case data) beside them."""
    if UNAVAILABLE:
        raise DossierError(UNAVAILABLE)
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    fetcher = DossierURLFetcher(Path(current_app.static_folder), store, {item.sha256 for item in evidence_items})
    html = render_template(template, static_url=static_url, photo_url=photo_url, **context)
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB profile (the PDF/A output intent) and leaves closing it to the
        # garbage collector; that is all this silences.
        warnings.simplefilter("ignore", ResourceWarning)
        with _one_garbage_collection():
            document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
            attachments = [
                Attachment(url=original_url(item.sha256), url_fetcher=fetcher,
                           name=attachment_name(item, shown_name),
                           description=f"{item.type_label}, SHA-256 {item.sha256}", relationship="Source")
                for item, shown_name in originals
            ]
            attachments += [Attachment(string=file.data, name=file.name, description=file.description,
                                       relationship="Data") for file in data_files]
            data = document.write_pdf(attachments=attachments or None, pdf_variant=PDF_VARIANT)
            pages = len(document.pages)
            del document  # its boxes go with the one collection
    if fetcher.missing:
        raise MissingEvidence(f"{len(fetcher.missing)} stored evidence file(s) are missing; run "
                              f"`flask evidence verify`. No dossier was issued.")
    return RenderedPDF(data, pages, fetcher)
