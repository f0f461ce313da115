"""The CFPB Consumer Complaint Database (https://www.consumerfinance.gov/data-research/consumer-complaints/):
its CSV columns, read by header name, mapped onto cases and businesses.

Three layouts are read: the 18 columns below, the older 19 with a trailing "Event tag", and the
current 16 without "Consumer consent provided?" and "Consumer disputed?".
"""
from collections.abc import Callable
from functools import lru_cache
from typing import BinaryIO

from ..businesses.naming import slugify
from ..models import User
from ..outcomes.cfpb import record_cfpb_outcomes
from .importer import run_import
from .reader import ImportAborted, column_key
from .report import ImportReport
from .row_mapping import (
    FIELD_MAX,
    NewCase,
    RowRejected,
    check_business_name,
    check_source_id,
    parse_date,
    required_date,
)

COLUMNS_18 = [
    "Date received", "Product", "Sub-product", "Issue", "Sub-issue", "Consumer complaint narrative",
    "Company public response", "Company", "State", "ZIP code", "Tags", "Consumer consent provided?",
    "Submitted via", "Date sent to company", "Company response to consumer", "Timely response?",
    "Consumer disputed?", "Complaint ID",
]
COLUMNS_19 = [*COLUMNS_18, "Event tag"]
COLUMNS_16 = [name for name in COLUMNS_18 if name not in ("Consumer consent provided?", "Consumer disputed?")]
LAYOUTS = {
    "CFPB, 18 columns": COLUMNS_18,
    "CFPB, 19 columns (older, with Event tag)": COLUMNS_19,
    "CFPB, 16 columns (current)": COLUMNS_16,
}
# Without these a row cannot become a case; the other columns are used when present.
REQUIRED = ["Complaint ID", "Date received", "Company", "Product", "Issue"]

# "Consumer consent provided?" is the consumer's consent to the CFPB publishing the narrative, never
# consent to be named: imported cases get consent_to_publish False and a line on their timeline.
CONSENT_GIVEN = "Consent provided"
NARRATIVE_CONSENT_NOTE = "The consumer agreed to the CFPB publishing the narrative."
FINANCIAL_WORDS = ("mortgage", "credit", "loan", "bank", "account", "money transfer", "prepaid", "payday", "card",
                   "financial")


@lru_cache(maxsize=4096)
def category_for(product: str) -> str:
    """The case category of a CFPB product."""
    product = product.casefold()
    if "debt collection" in product:
        return "debt_collection"
    if "vehicle" in product:  # before the financial words: "Vehicle loan or lease" is a car case
        return "auto"
    if any(word in product for word in FINANCIAL_WORDS):
        return "financial"
    return "other"


@lru_cache(maxsize=4096)
def product_tag(product: str) -> str | None:
    if not product.strip():
        return None
    slug = slugify(product)
    if len(slug) > 60:  # a tag's length; cut between words
        slug = slug[:61].rsplit("-", 1)[0]
    return slug


def yes_no(value: str) -> bool | None:
    """"Yes" / "No" of the CFPB's Timely response? and Consumer disputed?; None for "N/A" or nothing."""
    value = value.casefold()
    return True if value == "yes" else False if value == "no" else None


def state_code(value: str) -> str | None:
    """The two-letter code of the State column (some older rows spell out a territory: not kept as a code)."""
    return value.upper() if len(value) == 2 and value.isalpha() else None


def zip_code(value: str) -> str | None:
    """The ZIP code as published ("94110", or "941XX" where the CFPB withholds the last digits)."""
    return value if value and len(value) <= 10 and value.upper() not in ("N/A", "NONE") else None


def field(value: str) -> str | None:
    return value[:FIELD_MAX] or None


class CfpbMapper:
    source = "cfpb"

    def __init__(self):
        self.columns: dict[str, int] = {}
        self.width = 0
        self.layout = ""

    def bind(self, header: list[str]) -> None:
        known = {column_key(name): name for name in COLUMNS_19}
        for index, name in enumerate(header):
            official = known.get(column_key(name))
            if official and official not in self.columns:
                self.columns[official] = index
        self.width = len(header)
        missing = [name for name in REQUIRED if name not in self.columns]
        if missing:
            raise ImportAborted(
                "This is not a CFPB complaints file: it has no column " + ", ".join(f"“{m}”" for m in missing)
                + ". Its first line must name the CFPB’s columns (Date received, Product, …, Complaint ID); "
                + "it names " + ", ".join(f"“{name}”" for name in header[:8] if name)
                + (" …" if len(header) > 8 else "") + ".")
        normalized = [column_key(name) for name in header]
        self.layout = next((label for label, names in LAYOUTS.items()
                            if normalized == [column_key(name) for name in names]),
                           f"CFPB columns, {len(self.columns)} of {len(COLUMNS_19)} recognised")

    def audit_details(self) -> dict:
        return {"layout": self.layout}

    def parse(self, values: list[str], line: int) -> NewCase:
        if len(values) != self.width:
            raise RowRejected(f"has {len(values)} fields where the header has {self.width} "
                              f"(a comma or quote out of place?)")

        fields = {name: values[index].strip() for name, index in self.columns.items()}

        def get(name: str) -> str:
            return fields.get(name, "")  # a column the file does not have reads as empty

        problems: list[str] = []
        complaint_id = get("Complaint ID")
        source_id = check_source_id(complaint_id, "Complaint ID", problems)
        if not complaint_id:
            problems.append("missing Complaint ID")
        received = required_date(get("Date received"), "Date received", problems, us_dates=True)
        company = check_business_name(get("Company"), "Company", problems)
        issue, sub_issue = get("Issue"), get("Sub-issue")
        if not issue:
            problems.append("missing Issue (it becomes the case’s title)")
        if problems:
            raise RowRejected("; ".join(problems))

        product, sub_product = get("Product"), get("Sub-product")
        narrative = get("Consumer complaint narrative")
        if not narrative:
            narrative = (f"No narrative was published with this complaint. "
                         f"Product: {_joined(product, sub_product) or 'not given'}; Issue: {_joined(issue, sub_issue)}.")
        tags = ["cfpb", *get("Tags").split(","), product_tag(product) or ""]
        via = get("Submitted via")
        timeline = f"Imported from the CFPB Consumer Complaint Database, complaint {complaint_id}" + (
            f", submitted via {via}." if via else ".")
        if get("Consumer consent provided?") == CONSENT_GIVEN:
            timeline += f" {NARRATIVE_CONSENT_NOTE}"
        row = NewCase(
            source_id=source_id, business_name=company, title=_joined(issue, sub_issue), narrative=narrative,
            date_received=received, category=category_for(product), timeline_body=timeline,
            complainant_name=f"CFPB complainant {complaint_id}",
            complainant_address=" ".join(f"{get('State')} {get('ZIP code')}".split()) or None,
            consent_to_publish=False, tags=tags, product=field(product), sub_product=field(sub_product),
            issue=field(issue), sub_issue=field(sub_issue), company_response=field(get("Company response to consumer")),
            timely_response=yes_no(get("Timely response?")), consumer_disputed=yes_no(get("Consumer disputed?")),
            submitted_via=via[:50] or None, consumer_state=state_code(get("State")),
            consumer_zip=zip_code(get("ZIP code")),
        )
        response = get("Company response to consumer")
        sent_on = parse_date(get("Date sent to company"), us_dates=True)
        if response and not response.startswith("Closed"):  # "In progress", "Untimely response": no answer yet
            row.timeline_body += f" Company response to consumer: {response}."
            row.response_requested_on = sent_on
        elif response:
            parts = [f"Company response to consumer: {response}"]
            for label, column in (("Company public response", "Company public response"),
                                  ("Timely response", "Timely response?"),
                                  ("Consumer disputed", "Consumer disputed?")):
                value = get(column)
                if value and value.upper() != "N/A":
                    parts.append(f"{label}: {value}")
            row.business_response = "\n".join(parts)
            row.response_requested_on = row.response_received_on = sent_on
        return row


def _joined(first: str, second: str) -> str:
    return f"{first} — {second}" if first and second else first or second


def import_cfpb(stream: BinaryIO, author: User, file_name: str,
                progress: Callable[[ImportReport, int], None] | None = None) -> ImportReport:
    """Import a CFPB complaints CSV, committing batch by batch; the caller then commits the run's summary
    (commit_import). On ImportAborted nothing was written, or error.report says what was kept."""
    mapper = CfpbMapper()
    report = ImportReport(kind="cfpb", file_name=file_name)
    run_import(stream, mapper, author, report, progress)
    report.layout = mapper.layout
    record_cfpb_outcomes(author)  # "Closed with monetary relief" -> an outcome; set-based, committed with the summary
    return report
