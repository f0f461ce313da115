"""What an import did: imported, skipped (already imported), and each rejected row with its line and reason."""
from array import array
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
    last_reference: str = ""
    case_ids: array = field(default_factory=lambda: array("q"))  # every imported case, for the search index
    sha256: str = ""
    size: int = 0
    layout: str = ""  # which CFPB layout the header matched
    index_pending: int = 0  # imported cases not yet in the search index after the commit
    search_sync: bool = True

    @property
    def source_label(self) -> str:
        return "the CFPB Consumer Complaint Database" if self.kind == "cfpb" else "a CSV file"

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_LISTED_REJECTS:
            self.rejections.append(Rejection(line, reason))

    def add_case(self, case_id: int, reference: str) -> None:
        self.imported += 1
        self.case_ids.append(case_id)
        self.last_reference = reference
        if len(self.references) < MAX_LISTED_CASES:
            self.references.append(reference)

    @property
    def unlisted_rejections(self) -> int:
        return self.rejected - len(self.rejections)

    def summary_lines(self) -> list[str]:
        """The report as text lines, for the terminal."""
        def plural(n, word, words=None):
            return f"{n:,} {word if n == 1 else words or word + 's'}"

        lines = [f"Imported {plural(self.imported, 'complaint')} from {self.file_name} as new cases"
                 + (f" ({self.references[0]} … {self.last_reference})" if self.imported > 1 else
                    f" ({self.references[0]})" if self.references else "")
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
