"""Reading an uploaded or local CSV file as a stream: rows with the line each starts on,
the file's SHA-256, and plain-language reasons when the file is not readable CSV.

The file is never read into memory: bytes go through a counting, hashing reader into a
UTF-8 text stream (a BOM is tolerated) and the csv module, row by row.
"""
import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

CHUNK_SIZE = 64 * 1024
HEAD_SIZE = 8 * 1024


class ImportAborted(Exception):
    """The import cannot go on (a broken file, a missing column); nothing of it is kept."""


# What a file that is not CSV usually is, by its first bytes.
_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx). The CFPB download comes zipped: unzip it "
                    "first; from Excel, use File → Save As → CSV UTF-8"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file; save it as CSV UTF-8"),
    (b"\x1f\x8b", "a gzip-compressed file; decompress it first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xfe", "UTF-16 text (Excel’s “Unicode text”); save it as CSV UTF-8"),
    (b"\xfe\xff", "UTF-16 text; save it as CSV UTF-8"),
)


def sniff(head: bytes) -> str | None:
    """Why the first bytes of a file show it is not CSV text, or None if they might be."""
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return f"This is {what}, not a CSV file."
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        return "This is a web page or XML document, not a CSV file."
    if text.startswith((b"{", b"[")):
        return "This is JSON, not a CSV file: download the CSV version of the data."
    if b"\x00" in head:
        return "This is a binary file, not a CSV file (it contains NUL bytes)."
    return None


class _CountingReader(io.BufferedIOBase):
    """Passes the bytes through, hashing and counting them; remembers the last chunk for error messages."""

    def __init__(self, raw: BinaryIO, head: bytes, progress: Callable[[int], None] | None):
        super().__init__()
        self._raw = raw
        self._head = head
        self._progress = progress
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0
        self.newlines_before_chunk = 0
        self.chunk = b""

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        if self._head:
            chunk, self._head = self._head, b""
        else:
            chunk = self._raw.read(size if size and size > 0 else CHUNK_SIZE)
        self.newlines_before_chunk += self.chunk.count(b"\n")
        self.chunk = chunk
        if b"\x00" in chunk:
            line = self.newlines_before_chunk + chunk[:chunk.index(b"\x00")].count(b"\n") + 1
            raise ImportAborted(f"This is not a CSV text file: it contains a NUL byte on line {line:,}.")
        self.sha256.update(chunk)
        self.bytes_read += len(chunk)
        if self._progress and chunk:
            self._progress(self.bytes_read)
        return chunk

    read = read1

    def line_of(self, position_in_chunk: int) -> int:
        return self.newlines_before_chunk + self.chunk[:max(position_in_chunk, 0)].count(b"\n") + 1


_CSV_PROBLEMS = {
    "unexpected end of data": "has a quoted field that is never closed (a \" without its closing \")",
    "expected after": "has a quote inside a quoted field that is not doubled (write \"\" for a \" inside quotes)",
    "field larger than field limit": "has a field longer than 131,072 characters (probably a quote that is never closed)",
    "new-line character seen in unquoted field": "has a line break inside an unquoted field",
}


class CsvFile:
    """A CSV file read once, front to back: `header`, then `rows()` as (line, values).

    `line` is the physical line of the file where the row starts (the header is line 1),
    counting the line breaks inside quoted fields. `sha256` and `bytes_read` are complete once
    rows() is exhausted. Raises ImportAborted when the file is not UTF-8 CSV text.
    """

    def __init__(self, stream: BinaryIO, progress: Callable[[int], None] | None = None):
        head = stream.read(HEAD_SIZE)
        if not head:
            raise ImportAborted("The file is empty.")
        problem = sniff(head)
        if problem:
            raise ImportAborted(problem)
        self._bytes = _CountingReader(stream, head, progress)
        self._text = io.TextIOWrapper(self._bytes, encoding="utf-8-sig", errors="strict", newline="")
        self._reader = csv.reader(self._text, strict=True)
        self._last_line = 0
        self.header = self._read_header()

    @property
    def sha256(self) -> str:
        return self._bytes.sha256.hexdigest()

    @property
    def bytes_read(self) -> int:
        return self._bytes.bytes_read

    def _read_header(self) -> list[str]:
        with self._translating_errors():
            try:
                header = next(self._reader)
            except StopIteration:
                header = []
            self._last_line = self._reader.line_num
        header = [" ".join(name.split()) for name in header]
        if not any(header):
            raise ImportAborted("The first line is empty: it must name the columns (a CSV file’s header).")
        if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
            separator = "semicolons" if ";" in header[0] else "tabs"
            raise ImportAborted(f"The columns are separated by {separator}, not commas: save the file as "
                                f"comma-separated CSV.")
        return header

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Each row that is not blank, with the line it starts on."""
        with self._translating_errors():
            for values in self._reader:
                line, self._last_line = self._last_line + 1, self._reader.line_num
                if values and (values[0].strip() or any(value.strip() for value in values)):
                    yield line, values
            self._text.read()  # past the last row, so the hash covers the whole file

    def close(self) -> None:
        self._text.detach()  # the caller owns the underlying stream

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def _translating_errors(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as error:
            counted = self._bytes
            position = len(counted.chunk) - (len(error.object) - error.start)
            raise ImportAborted(f"This is not UTF-8 text: undecodable bytes on line {counted.line_of(position):,}. "
                                f"Save the file as CSV UTF-8.") from error
        except csv.Error as error:
            message = str(error)
            reason = next((text for key, text in _CSV_PROBLEMS.items() if key in message), message)
            raise ImportAborted(f"This is not valid CSV: the row starting on line {self._last_line + 1:,} "
                                f"{reason}.") from error


def column_key(name: str) -> str:
    """Header names compared without regard to case or spacing: "ZIP code" is "Zip Code"."""
    return " ".join(name.split()).casefold()
