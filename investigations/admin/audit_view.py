"""The audit trail for people: events filtered, told in words, and exported as CSV.

What an event says is stored as codes (`case.complainant_view`, object ids, JSON details) because
that is what the hash chain covers; this module only reads them. Unknown actions fall back to
their code, so a new action never breaks the page.
"""
import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import AuditEvent, Business, Case, Evidence, User
from ..models.cases import STATUS_LABELS
from ..spreadsheets import spreadsheet_safe
from ..template_helpers import format_iso, from_local

COMPLAINANT_VIEW = "case.complainant_view"

AUDIENCES = {"internal": "for the newsroom (internal)", "news": "for a news outlet", "bbb": "for the BBB / a regulator"}

# What each action did, as a sentence; {object} is the object in words, {d[...]} a detail.
PHRASES = {
    "auth.login": "Signed in",
    "auth.logout": "Signed out",
    "auth.login_failed": "Failed to sign in",
    "auth.lockout": "Sign-ins locked after repeated failures",
    "auth.password_failed": "Entered a wrong password",
    "auth.totp_enable": "Turned on two-factor sign-in",
    "auth.totp_disable": "Turned off two-factor sign-in",
    "auth.totp_failed": "Entered a wrong two-factor code",
    "user.create": "Created the account of {object}",
    "user.update": "Changed the account of {object}",
    "user.password_reset": "Reset the password of {object}",
    "user.password_change": "Changed their password",
    "api_token.create": "Created an API token",
    "api_token.revoke": "Revoked an API token",
    "case.create": "Filed {object}",
    "case.update": "Edited {object}",
    "case.status": "Moved {object} to a new status",
    "case.assign": "Changed who is assigned to {object}",
    "case.note": "Added a timeline entry to {object}",
    "case.response": "Recorded the business’s response on {object}",
    "case.complainant_view": "Viewed complainant details of {object}",
    "case.merge": "Merged a duplicate into {object}",
    "case.evidence_zip": "Downloaded all evidence of {object} (ZIP)",
    "cases.export": "Exported the case list",
    "business.create": "Added the business {object}",
    "business.update": "Edited the business {object}",
    "business.merge": "Merged a duplicate business into {object}",
    "evidence.upload": "Uploaded {object}",
    "evidence.view": "Viewed {object}",
    "evidence.download": "Downloaded the original of {object}",
    "evidence.withdraw": "Withdrew {object}",
    "evidence.export": "Exported {object}",
    "evidence.move": "Moved {object} to another case",
    "evidence.release": "Released {object} for outside dossiers",
    "evidence.release_withdrawn": "Took back the release of {object}",
    "dossier.export": "Exported a dossier of {object}",
    "search.save": "Saved a search",
    "import.cfpb": "Imported complaints from the CFPB database",
    "import.csv": "Imported complaints from a CSV file",
    "backup.create": "Created a backup",
    "backup.restore": "Restored a backup",
    "demo.seed": "Seeded the demo archive",
    "audit.rechain": "Re-chained the audit trail with the audit key",
    "audit.export": "Exported audit events",
}
ACTION_LABELS = {
    "auth.login": "Sign-ins", "auth.logout": "Sign-outs", "auth.login_failed": "Failed sign-ins",
    "case.complainant_view": "Views of complainant details", "case.update": "Case edits",
    "dossier.export": "Dossier exports", "cases.export": "Case list exports",
}
DETAIL_LABELS = {"from": "From", "to": "To", "sha256": "SHA-256", "ip": "IP"}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or PHRASES.get(action, action).replace(" {object}", "").replace("{object}", "")


@dataclass
class EventView:
    """One event as people read it."""
    event: AuditEvent
    sentence: str
    case_reference: str | None
    details: list[tuple[str, str]]

    @property
    def details_text(self) -> str:
        return "\n".join(f"{label}: {value}" for label, value in self.details)


@dataclass
class AuditFilters:
    person: int | None = None
    case: str | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def filtered_query(filters: AuditFilters) -> Select:
    query = select(AuditEvent).options(selectinload(AuditEvent.actor)).order_by(AuditEvent.seq.desc())
    if filters.person:
        query = query.where(AuditEvent.actor_id == filters.person)
    if filters.case:
        reference = filters.case.strip().upper()
        case_id = db.session.scalar(select(Case.id).where(Case.reference == reference))
        about_case = (AuditEvent.object_type == "case") & (AuditEvent.object_id == reference)
        if case_id is not None:  # its evidence files' events too
            evidence_ids = select(cast(Evidence.id, String)).where(Evidence.case_id == case_id)
            about_case = or_(about_case, (AuditEvent.object_type == "evidence") & AuditEvent.object_id.in_(evidence_ids))
        query = query.where(about_case)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.date_from:
        query = query.where(AuditEvent.created_at >= from_local(datetime.combine(filters.date_from, time.min)))
    if filters.date_to:
        query = query.where(AuditEvent.created_at < from_local(datetime.combine(filters.date_to + timedelta(days=1),
                                                                                 time.min)))
    return query


def known_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def present(events: Iterable[AuditEvent]) -> list[EventView]:
    """Events in words; the names of the accounts, businesses and files they point at are looked
    up once for the whole page."""
    events = list(events)
    ids = {kind: {int(e.object_id) for e in events if e.object_type == kind and (e.object_id or "").isdigit()}
           for kind in ("user", "business", "evidence")}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids["user"])))} if ids["user"] else {}
    businesses = ({b.id: b.name for b in db.session.scalars(select(Business).where(Business.id.in_(ids["business"])))}
                  if ids["business"] else {})
    evidence = ({e.id: e for e in db.session.scalars(select(Evidence).where(Evidence.id.in_(ids["evidence"]))
                                                      .options(selectinload(Evidence.case)))}
                if ids["evidence"] else {})
    return [_present(e, users, businesses, evidence) for e in events]


def _present(event: AuditEvent, users: dict, businesses: dict, evidence: dict) -> EventView:
    details = _details(event.details)
    object_words, case_reference = _object_words(event, users, businesses, evidence, details)
    phrase = PHRASES.get(event.action)
    if phrase is None:
        sentence = f"{event.action} {object_words}".strip()
    else:
        sentence = phrase.format(object=object_words or "something")
    sentence += _sentence_tail(event.action, details)
    return EventView(event, sentence, case_reference, _detail_lines(details))


def _object_words(event, users, businesses, evidence, details) -> tuple[str, str | None]:
    kind, ident = event.object_type, event.object_id
    number = int(ident) if (ident or "").isdigit() else None
    if kind == "case":
        return ident, ident
    if kind == "user":
        user = users.get(number)
        return (f"{user.display_name} ({user.email})" if user else f"account #{ident}"), None
    if kind == "business":
        return businesses.get(number, f"business #{ident}"), None
    if kind == "evidence":
        item = evidence.get(number)
        reference = details.get("case") if isinstance(details.get("case"), str) else None
        if item is not None and item.case is not None:
            reference = reference or item.case.reference
        return f"evidence #{ident}" + (f" of {reference}" if reference else ""), reference
    if kind:
        return f"{kind} #{ident}", None
    return "", None


def _sentence_tail(action: str, details: dict) -> str:
    if action == "dossier.export":
        words = f" (dossier #{details['dossier']}" if details.get("dossier") is not None else " ("
        audience = AUDIENCES.get(details.get("audience"), details.get("audience") or "")
        return f"{words} {audience})".replace("( ", "(")
    if action == "case.status" and details.get("to"):
        return f": {STATUS_LABELS.get(details.get('from'), details.get('from'))} → " \
               f"{STATUS_LABELS.get(details['to'], details['to'])}"
    if action == "cases.export" and details.get("include_complainant"):
        return ", with complainants’ contact details"
    if action in ("import.cfpb", "import.csv") and details.get("file"):
        return f" ({details['file']})"
    return ""


def _details(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"raw": text}
    return value if isinstance(value, dict) else {"value": value}


def _detail_lines(details: dict) -> list[tuple[str, str]]:
    return [(DETAIL_LABELS.get(key) or key.replace("_", " ").capitalize(), _value(value))
            for key, value in details.items()]


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and set(value) <= {"from", "to"} and value:
        return f"{_value(value.get('from'))} → {_value(value.get('to'))}"
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {_value(inner)}" for key, inner in value.items())
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value) or "none"
    return str(value)


CSV_COLUMNS = ["Event", "Time", "Who", "What", "Case", "Action code", "Object", "Details", "IP address"]


def as_csv(events: Iterable[AuditEvent], batch: int = 500) -> Iterator[str]:
    """The events as CSV rows, every cell defused for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    chunk: list[AuditEvent] = []

    def flush_rows():
        for view in present(chunk):
            event = view.event
            obj = f"{event.object_type} {event.object_id}" if event.object_type else ""
            writer.writerow([spreadsheet_safe(cell) for cell in (
                str(event.seq), format_iso(event.created_at, "seconds"), event.actor_label, view.sentence,
                view.case_reference or "", event.action, obj, view.details_text, event.ip or "")])
        chunk.clear()

    for event in events:
        chunk.append(event)
        if len(chunk) >= batch:
            flush_rows()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    flush_rows()
    yield buffer.getvalue()
