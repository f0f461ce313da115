"""The one-line case list of a business dossier, laid out so that WeasyPrint sets a thousand lines fast.

Each case is one line of text: the reference, the date received, the kind and the status in
fixed-width (monospace) columns padded with spaces, then the summary in the text face. That is one
table cell and two runs of text per case, where a cell per column cost WeasyPrint a box, a text
layout and a drawn border each (1,000 cases: over 2 s of CPU more, see bench/dossier_bench.py).
The padded columns are as wide as their longest value in this dossier (a dossier whose cases are all
"New" gives the status six characters, not seventeen), and the summary takes what is left of the line.
What would not fit is shortened with "…"; the attached case data has every value whole.
"""
from dataclasses import dataclass

from ..template_helpers import format_date
from .audiences import CaseContent

HEADINGS = ("Reference", "Received", "Kind", "Status")
LONGEST = (16, 11, 24, 17)  # at most this many characters per column; longer values are shortened
GAP = 2  # spaces between columns

# Must match table.one-line in static/css/dossier.css. The line is as wide as A4's text block
# (210 mm less 2 × 18 mm margins, 493 pt); US Letter's is a little wider.
LINE_PT = 493 - 2 * 2.5  # less the cell's padding
MONO_PT = 6.6  # DejaVu Sans Mono: every character is 0.602 em wide
MONO_EM = 0.602
TEXT_PT = 7  # DejaVu Sans: ordinary sentences average 0.52 em a character, capitals 0.63
TEXT_EM = 0.55


@dataclass(frozen=True)
class CaseLine:
    columns: str  # the padded monospace part
    summary: str


@dataclass(frozen=True)
class CaseList:
    heading: CaseLine
    lines: list[CaseLine]


def shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[:max(length - 1, 0)].rstrip() + "…"


def case_list(contents: list[CaseContent]) -> CaseList:
    rows = [(content.case.reference, format_date(content.case.date_received), content.case.category_label,
             content.case.status_label, content.title) for content in contents]
    widths = [min(most, max([len(heading), *(len(row[i]) for row in rows)]))
              for i, (heading, most) in enumerate(zip(HEADINGS, LONGEST, strict=True))]
    columns_chars = sum(widths) + GAP * len(widths)
    summary_chars = int((LINE_PT - columns_chars * MONO_PT * MONO_EM) / (TEXT_PT * TEXT_EM))

    def padded(values) -> str:
        return "".join(shorten(value, width).ljust(width + GAP) for value, width in zip(values, widths, strict=True))

    return CaseList(CaseLine(padded(HEADINGS), "Summary"),
                    [CaseLine(padded(row[:4]), shorten(" ".join(row[4].split()), summary_chars)) for row in rows])
