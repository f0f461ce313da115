"""Exporting a filtered case list as CSV or JSON, streamed, with the same permissions as the list.

Complainant details go out only when an editor asks for them, and each such export is audited.
"""
import csv
import io
import json
from collections.abc import Iterator

from flask import url_for
from sqlalchemy.orm import joinedload, selectinload

from .. import audit
from ..extensions import db
from ..models import Case, User, utcnow
from ..outcomes.exports import OUTCOME_COLUMNS, outcome_columns
from ..spreadsheets import spreadsheet_safe
from ..template_helpers import format_iso, local_today
from .queries import case_list_query

# Where the case came from, and the CFPB's own fields of an imported complaint (empty for others).
SOURCE_COLUMNS = ["source", "source_id", "source_url", "product", "sub_product", "issue", "sub_issue",
                  "company_response", "timely_response", "consumer_disputed", "submitted_via", "consumer_state",
                  "consumer_zip"]
COLUMNS = ["reference", "title", "status", "category", "business", "date_received", "incident_date",
           "amount_in_dispute", "currency", "received_via", "tags", "assigned_to", "filed_by",
           "response_due_on", "response_received_on", "overdue", "last_change", "url", *OUTCOME_COLUMNS,
           *SOURCE_COLUMNS]
COMPLAINANT_COLUMNS = ["complainant_name", "complainant_email", "complainant_phone", "complainant_address",
                       "consent_to_publish"]


class ExportNotAllowed(PermissionError):
    pass


def _row(case: Case, include_complainant: bool) -> dict:
    row = {
        "reference": case.reference, "title": case.title, "status": case.status, "category": case.category,
        "business": case.business.name, "date_received": case.date_received.isoformat(),
        "incident_date": case.incident_date.isoformat() if case.incident_date else None,
        "amount_in_dispute": str(case.amount_in_dispute) if case.amount_in_dispute is not None else None,
        "currency": case.currency, "received_via": case.received_via, "tags": case.tag_names,
        "assigned_to": case.assigned_to.display_name if case.assigned_to else None,
        "filed_by": case.created_by.display_name,
        "response_due_on": case.response_due_on.isoformat() if case.response_due_on else None,
        "response_received_on": case.response_received_on.isoformat() if case.response_received_on else None,
        "overdue": case.is_overdue(local_today()),
        # Times in the newsroom's zone, with their offset ("2026-12-05T10:30-05:00"): never bare UTC.
        "last_change": format_iso(case.updated_at, "seconds") or None,
        "url": url_for("cases.detail", reference=case.reference, _external=True),
        **outcome_columns(case),
        **{name: getattr(case, name) for name in SOURCE_COLUMNS},
    }
    if include_complainant:
        row.update({name: getattr(case, name) for name in COMPLAINANT_COLUMNS})
    return row


def export_rows(user: User, filters: dict, include_complainant: bool = False) -> Iterator[dict]:
    """The cases of the filtered list as plain rows; audits the export (before the first row)."""
    if include_complainant and not user.is_editor:
        raise ExportNotAllowed("Only editors can export complainants' contact details.")
    query = case_list_query(user, filters)
    count = db.session.scalar(db.select(db.func.count()).select_from(query.order_by(None).subquery()))
    audit.record("cases.export", actor=user, cases=count, include_complainant=include_complainant,
                 filters={key: value for key, value in filters.items() if value})
    db.session.commit()

    def rows():
        query_with_details = query.options(selectinload(Case.tags), joinedload(Case.created_by),
                                           selectinload(Case.outcome), selectinload(Case.stories))
        for case in db.session.scalars(query_with_details.execution_options(yield_per=500)):
            yield _row(case, include_complainant)

    return rows()


def as_csv(rows: Iterator[dict], include_complainant: bool) -> Iterator[str]:
    columns = COLUMNS + (COMPLAINANT_COLUMNS if include_complainant else [])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: spreadsheet_safe(_cell(value)) for key, value in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def as_json(rows: Iterator[dict], filters: dict) -> Iterator[str]:
    """One JSON document, streamed: {"exported_at", "filters", "cases": [...]}."""
    head = {"exported_at": format_iso(utcnow(), "seconds"), "filters": {k: v for k, v in filters.items() if v}}
    yield json.dumps(head)[:-1] + ', "cases": ['
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]}\n"
