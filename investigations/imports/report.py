"""What an import did: imported, skipped (already imported), and each rejected row with its line and reason."""
from dataclasses import dataclass, field

MAX_LISTED_REJECTS = 1000  # a file of nothing but bad rows must not fill memory; the count stays exact
MAX_LISTED_CASES = 100


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass
class ImportReport:
    kind: str  # "cfpb" or "csv"
    file_name: str
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    businesses_created: int = 0
    rejections: list[Rejection] = field(default_factory=list)  # the first MAX_LISTED_REJECTS
    references: list[str] = field(default_factory=list)  # the first MAX_LISTED_CASES imported
    first_reference: str = ""
    last_reference: str = ""
    batches: int = 0  # committed batches
    rows: int = 0  # rows read (not counting blank lines)
    last_line: int = 0  # the line the last row read starts on
    committed_line: int = 0  # the line of the last row of the last committed batch
    stopped: str = ""  # why the import stopped before the end of the file (its committed batches are kept)
    sha256: str = ""
    size: int = 0
    layout: str = ""  # which CFPB layout the header matched
    index_pending: int = 0  # imported cases the search index did not take (they wait in search_queue)
    search_sync: bool = True
    started: float = 0.0  # time.monotonic() at the start of the run

    @property
    def source_label(self) -> str:
        return "the CFPB Consumer Complaint Database" if self.kind == "cfpb" else "a CSV file"

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_LISTED_REJECTS:
            self.rejections.append(Rejection(line, reason))

    def add_batch(self, references: list[str]) -> None:
        """A committed batch of new cases: counts and a bounded sample of references, never every id."""
        if not references:
            return
        self.batches += 1
        self.imported += len(references)
        self.first_reference = self.first_reference or references[0]
        self.last_reference = references[-1]
        room = MAX_LISTED_CASES - len(self.references)
        if room > 0:
            self.references.extend(references[:room])

    @property
    def stopped_message(self) -> str:
        """What a stopped import kept, after the reason it stopped."""
        if not self.imported:
            return "Nothing was imported."
        return (f"The {self.imported:,} complaints imported before it ({self.first_reference} … {self.last_reference}, "
                f"rows up to line {self.committed_line:,} of the file) were kept: import the file again to add the rest; "
                f"those already imported are skipped.")

    @property
    def unlisted_rejections(self) -> int:
        return self.rejected - len(self.rejections)

    def summary_lines(self) -> list[str]:
        """The report as text lines, for the terminal."""
        def plural(n, word, words=None):
            return f"{n:,} {word if n == 1 else words or word + 's'}"

        lines = [f"Imported {plural(self.imported, 'complaint')} from {self.file_name} as new cases"
                 + (f" ({self.first_reference} … {self.last_reference})" if self.imported > 1 else
                    f" ({self.first_reference})" if self.imported else "")
                 + (f"; {plural(self.businesses_created, 'new business', 'new businesses')}." if self.businesses_created else ".")]
        lines.append(f"Skipped {self.skipped:,} already imported.")
        if self.rejected:
            lines.append(f"Rejected {plural(self.rejected, 'row')}:")
            lines += [f"  line {item.line:,}: {item.reason}" for item in self.rejections]
            if self.unlisted_rejections:
                lines.append(f"  … and {self.unlisted_rejections:,} more rejected rows.")
        else:
            lines.append("Rejected 0 rows.")
        return lines
