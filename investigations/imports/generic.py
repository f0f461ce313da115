"""Any CSV file, with a column mapping: which column holds the title, the narrative, the business…"""
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import BinaryIO

from ..cases.services import parse_tags
from ..models import User
from ..models.cases import CATEGORIES
from .importer import run_import
from .reader import CsvFile, ImportAborted, column_key
from .report import ImportReport
from .row_mapping import NewCase, RowRejected, check_business_name, check_source_id, required_date, shorten


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    required: bool = False
    help: str = ""
    synonyms: tuple[str, ...] = ()  # header names pre-selected for it, besides its key and label


TARGETS = [
    Target("title", "Title", True, "One line; longer titles are cut at 200 characters.",
           ("subject", "summary", "headline", "issue")),
    Target("narrative", "Narrative", True, "What happened.",
           ("story", "description", "complaint", "details", "text", "what happened")),
    Target("business", "Business", True, "Matched to existing businesses by normalized name.",
           ("company", "business name", "company name", "trader", "merchant")),
    Target("date_received", "Date received", True, "YYYY-MM-DD or an ISO timestamp.",
           ("date", "received", "received on", "date submitted")),
    Target("complainant_name", "Complainant’s name", False, "“Unknown complainant” when not given.",
           ("name", "complainant", "consumer", "customer")),
    Target("complainant_email", "Complainant’s e-mail", False, "", ("email", "e-mail", "email address")),
    Target("complainant_phone", "Complainant’s phone", False, "", ("phone", "telephone", "phone number")),
    Target("category", "Category", False,
           "One of the app’s categories, by key or name (e.g. refund, “Debt collection”); empty is “Other”.", ()),
    Target("tags", "Tags", False, "Separated by commas.", ("tag", "labels", "keywords")),
    Target("external_id", "External ID", False,
           "An ID unique within the source: rows with one are skipped when imported again.",
           ("id", "external id", "reference", "ref", "complaint id", "case id")),
    Target("amount_in_dispute", "Amount in dispute", False, "A number such as 1234.50 (in the default currency).",
           ("amount", "amount in dispute", "value", "sum")),
]
TARGET_KEYS = [target.key for target in TARGETS]
REQUIRED_TARGETS = [target.key for target in TARGETS if target.required]
DEFAULT_COMPLAINANT = "Unknown complainant"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()./\- x]+$")
_CATEGORY_KEYS = {**{column_key(key): key for key in CATEGORIES}, **{column_key(label): key
                                                                     for key, label in CATEGORIES.items()}}


def suggest_mapping(header: list[str]) -> dict[str, int]:
    """target -> column index, for the columns whose names say what they hold."""
    keys = [column_key(name) for name in header]
    suggested = {}
    for target in TARGETS:
        names = [column_key(target.key.replace("_", " ")), column_key(target.label), *target.synonyms]
        for name in names:
            if name in keys:
                suggested[target.key] = keys.index(name)
                break
    return suggested


def parse_amount(text: str) -> Decimal:
    cleaned = re.sub(r"[\s$€£¥]", "", text)
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")  # 1,234.50
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise RowRejected(f"unreadable amount \"{shorten(text)}\" in the amount in dispute") from None
    if not amount.is_finite() or amount < 0 or amount > 10**11:
        raise RowRejected(f"amount in dispute \"{shorten(text)}\" is not an amount of zero or more")
    return amount.quantize(Decimal("0.01"))


class GenericMapper:
    """`mapping`: target -> column, given as a header name (command line) or a column index (the form)."""

    source = "csv"

    def __init__(self, mapping: dict[str, str | int], file_name: str):
        unknown = set(mapping) - set(TARGET_KEYS)
        if unknown:
            raise ImportAborted(f"Unknown target {', '.join(sorted(unknown))}: use {', '.join(TARGET_KEYS)}.")
        missing = [key for key in REQUIRED_TARGETS if key not in mapping]
        if missing:
            raise ImportAborted(f"Say which column holds {', '.join(missing)}: "
                                f"{', '.join(REQUIRED_TARGETS)} are required.")
        self.mapping = mapping
        self.file_name = file_name
        self.columns: dict[str, int] = {}
        self.header: list[str] = []
        self.header_of: dict[str, str] = {}  # target -> the name of its column

    def bind(self, header: list[str]) -> None:
        self.header = header
        keys = [column_key(name) for name in header]
        absent = []
        for target, column in self.mapping.items():
            if isinstance(column, int):
                if not 0 <= column < len(header):
                    absent.append(f"column {column + 1}")
                    continue
                self.columns[target] = column
            elif column in header:
                self.columns[target] = header.index(column)
            elif column_key(column) in keys:
                self.columns[target] = keys.index(column_key(column))
            else:
                absent.append(f"“{column}”")
        if absent:
            raise ImportAborted(f"The file has no column {', '.join(absent)}. Its columns are: "
                                + ", ".join(f"“{name}”" for name in header) + ".")
        self.header_of = {target: header[index] for target, index in self.columns.items()}

    def audit_details(self) -> dict:
        return {"mapping": {target: self.header[index] for target, index in self.columns.items()}}

    def parse(self, values: list[str], line: int) -> NewCase:
        if len(values) != len(self.header):
            raise RowRejected(f"has {len(values)} fields where the header has {len(self.header)} "
                              f"(a comma or quote out of place?)")

        def get(target: str) -> str:
            index = self.columns.get(target)
            return values[index].strip() if index is not None else ""

        problems: list[str] = []
        header_of = self.header_of
        title, narrative = get("title"), get("narrative")
        if not title:
            problems.append(f"missing title (column “{header_of['title']}”)")
        if not narrative:
            problems.append(f"missing narrative (column “{header_of['narrative']}”)")
        business = check_business_name(get("business"), f"business (column “{header_of['business']}”)", problems)
        received = required_date(get("date_received"), f"date received (column “{header_of['date_received']}”)",
                                 problems)
        external_id = get("external_id")
        source_id = check_source_id(external_id, "external ID", problems)
        name = " ".join(get("complainant_name").split()) or DEFAULT_COMPLAINANT
        if len(name) > 200:
            problems.append("complainant’s name is longer than 200 characters")
        email = get("complainant_email") or None
        if email and (len(email) > 254 or not _EMAIL.match(email)):
            problems.append(f"unreadable e-mail address \"{shorten(email)}\"")
        phone = get("complainant_phone") or None
        if phone and (len(phone) > 50 or not _PHONE.match(phone)):
            problems.append(f"unreadable phone number \"{shorten(phone)}\" (digits, spaces and + ( ) - only)")
        category = "other"
        if get("category"):
            category = _CATEGORY_KEYS.get(column_key(get("category")))
            if category is None:
                problems.append(f"unknown category \"{shorten(get('category'))}\" "
                                f"(use one of: {', '.join(CATEGORIES)})")
        amount = None
        if get("amount_in_dispute"):
            try:
                amount = parse_amount(get("amount_in_dispute"))
            except RowRejected as error:
                problems.append(str(error))
        if problems:
            raise RowRejected("; ".join(problems))
        timeline = f"Imported from the CSV file “{self.file_name}”, line {line:,}" + (
            f", ID {external_id}." if external_id else ".")
        return NewCase(
            source_id=source_id, business_name=business, title=title, narrative=narrative,
            date_received=received, category=category, timeline_body=timeline, complainant_name=name,
            complainant_email=email, complainant_phone=phone, amount_in_dispute=amount,
            tags=parse_tags(get("tags")),
        )


def import_csv(stream: BinaryIO, author: User, file_name: str, mapping: dict[str, str | int],
               progress: Callable[[ImportReport, int], None] | None = None) -> ImportReport:
    """Import any CSV file with a column mapping (target -> header name or column index), committing batch
    by batch; the caller then commits the run's summary (commit_import). On ImportAborted nothing was
    written, or error.report says what was kept."""
    mapper = GenericMapper(mapping, file_name)
    report = ImportReport(kind="csv", file_name=file_name)
    return run_import(stream, mapper, author, report, progress)


def read_preview(stream: BinaryIO, rows: int = 3) -> tuple[list[str], list[list[str]]]:
    """The header and the first few rows, to choose the mapping; raises ImportAborted for a broken file."""
    with CsvFile(stream) as csv_file:
        lines = csv_file.rows()
        try:
            return csv_file.header, [values for _, values in islice(lines, rows)]
        finally:
            lines.close()
