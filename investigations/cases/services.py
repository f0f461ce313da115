"""Writes on cases: filing, editing, status moves, assignment, timeline notes.

Views call these, then commit. Each change writes its audit event (and, for status moves
and assignments, its timeline entry) in the same transaction.
"""
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..businesses.services import find_or_create_business
from ..database import increment_row
from ..extensions import db
from ..models import Case, CaseReferenceCounter, CaseTag, TimelineEntry, User, utcnow
from ..models.cases import NOTE_KINDS, PUBLIC_KINDS, Status, TimelineKind, TimelineRevision
from ..permissions import can_move_case
from ..template_helpers import local_today
from .workflow import is_allowed_move


class WorkflowError(ValueError):
    """A status move that the workflow does not allow."""


class MoveNotPermitted(WorkflowError):
    """A status move that exists, but not for this user's role."""


def parse_tags(text: str | list[str] | None) -> list[str]:
    """'Warranty, refund ,  Warranty' (or ['Warranty', 'refund']) -> ['refund', 'warranty']"""
    parts = (text or "").split(",") if isinstance(text, str) or text is None else text
    names = {" ".join(part.split()).lower()[:60] for part in parts}
    return sorted(name for name in names if name)


@dataclass
class CaseDetails:
    """A case's details as a person gives them, through the case form, the API or the public form:
    typed, so no service reads a form-shaped dict. Blank text is None."""
    title: str
    narrative: str
    category: str
    business_name: str
    complainant_name: str | None = None
    complainant_email: str | None = None
    complainant_phone: str | None = None
    complainant_address: str | None = None
    consent_to_publish: bool = False
    amount_in_dispute: Decimal | None = None
    currency: str | None = None  # None: DEFAULT_CURRENCY
    incident_date: date | None = None
    date_received: date | None = None  # None: the newsroom's today
    received_via: str | None = None
    desired_resolution: str | None = None
    tags: list[str] = field(default_factory=list)

    @classmethod
    def from_fields(cls, data: Mapping) -> "CaseDetails":
        """From a mapping with these names (a form's data, the API's input); other keys are ignored;
        tags as a list or as 'refund, warranty'."""
        values = {f.name: _clean(data[f.name]) for f in fields(cls) if f.name in data}
        values["tags"] = parse_tags(values.get("tags"))
        values["consent_to_publish"] = bool(values.get("consent_to_publish"))
        return cls(**values)

    @classmethod
    def of_case(cls, case: Case) -> "CaseDetails":
        return cls(business_name=case.business.name, tags=list(case.tag_names),
                   **{name: getattr(case, name) for name in CASE_FIELDS})


# The details stored on the case as they are (the business and tags are looked up and linked).
# Audit events name changed fields, never values.
CASE_FIELDS = tuple(f.name for f in fields(CaseDetails) if f.name not in ("business_name", "tags"))


def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def next_reference(year: int) -> str:
    """Claim the next case reference of `year`, e.g. C-2026-00042; unique across concurrent writers."""
    row = increment_row(db.session.connection(), CaseReferenceCounter.__table__, {"year": year}, "last_number")
    return f"C-{year}-{row.last_number:05d}"


def _set_tags(case: Case, names: list[str]) -> None:
    current = {tag.name: tag for tag in case.tags}
    for name in set(current) - set(names):
        case.tags.remove(current[name])
    for name in names:
        if name not in current:
            case.tags.append(CaseTag(name=name))


def add_timeline(case: Case, kind: TimelineKind, body: str, author: User | None,
                 occurred_at: datetime | None = None, internal: bool | None = None) -> TimelineEntry:
    if internal is None:
        internal = kind not in PUBLIC_KINDS
    entry = TimelineEntry(kind=kind.value, body=body, author=author, occurred_at=occurred_at or utcnow(),
                          internal=internal)
    case.timeline.append(entry)
    return entry


def create_case(details: CaseDetails, author: User) -> tuple[Case, bool]:
    """File a new case; return (case, whether its business was created for it)."""
    business, business_created = find_or_create_business(details.business_name)
    values = {name: getattr(details, name) for name in CASE_FIELDS}
    values["currency"] = details.currency or current_app.config["DEFAULT_CURRENCY"]
    today = local_today()  # the newsroom's date, not the server's
    values["date_received"] = details.date_received or today
    case = Case(reference=next_reference(today.year), business=business, created_by=author,
                assigned_to=author if author.role == "reporter" else None, status=Status.NEW.value, **values)
    db.session.add(case)
    _set_tags(case, details.tags)
    add_timeline(case, TimelineKind.CREATED, "Case opened.", author)
    audit.record("case.create", case, business=business.name, title=case.title)
    return case, business_created


def update_case(case: Case, details: CaseDetails) -> list[str]:
    """Apply edited details; return the names of the fields that changed."""
    changed = []
    business, _ = find_or_create_business(details.business_name)
    if business.id != case.business_id:
        case.business = business
        changed.append("business")
    consent = {}
    if case.consent_to_publish != details.consent_to_publish:  # who changed consent, from what to what, is kept
        consent["consent_to_publish"] = {"from": case.consent_to_publish, "to": details.consent_to_publish}
    for name in CASE_FIELDS:
        if getattr(case, name) != getattr(details, name):
            setattr(case, name, getattr(details, name))
            changed.append(name)
    if set(details.tags) != set(case.tag_names):
        _set_tags(case, details.tags)
        changed.append("tags")
    if changed:
        audit.record("case.update", case, fields=changed, **consent)
    return changed


def change_status(case: Case, target: Status, actor: User, comment: str | None = None) -> None:
    current = case.status_enum
    if not is_allowed_move(current, target):
        raise WorkflowError(f"A case that is {current.label.lower()} cannot move to {target.label.lower()}.")
    if not can_move_case(actor, case, target):
        raise MoveNotPermitted(f"Only editors can move a case to {target.label.lower()} or out of {current.label.lower()}.")
    case.status = target.value
    body = f"Status changed from {current.label} to {target.label}."
    details = {"from": current.value, "to": target.value}
    if target == Status.AWAITING_RESPONSE:
        today = local_today()
        days = current_app.config["RIGHT_OF_REPLY_DAYS"]
        case.response_requested_on = today
        case.response_due_on = today + timedelta(days=days)
        case.response_received_on = None
        body += f" The business has until {case.response_due_on:%d %B %Y} to respond ({days} days)."
        details["response_due_on"] = case.response_due_on.isoformat()
    add_timeline(case, TimelineKind.STATUS, body, actor)
    if comment:  # the newsroom's words stay internal; the status change itself is public
        add_timeline(case, TimelineKind.NOTE, comment, actor, internal=True)
    audit.record("case.status", case, **details)


def assign_case(case: Case, assignee: User | None, actor: User) -> bool:
    """Assign the case (None: unassign); return False when nothing changed."""
    if case.assigned_to_id == (assignee.id if assignee else None):
        return False
    previous = case.assigned_to
    case.assigned_to = assignee
    # The assignee is told in the app: the case is marked new on their My work until they open it.
    case.assignee_seen = assignee is None or assignee.id == actor.id
    if assignee is None:
        body = f"Unassigned from {previous.display_name}." if previous else "Unassigned."
    else:
        body = f"Assigned to {assignee.display_name}."
    add_timeline(case, TimelineKind.ASSIGNMENT, body, actor)
    audit.record(
        "case.assign", case,
        **{"from": previous.email if previous else None, "to": assignee.email if assignee else None},
    )
    return True


def add_note(case: Case, kind: TimelineKind, body: str, author: User,
             occurred_at: datetime | None = None, internal: bool = True,
             follow_up_on: date | None = None) -> TimelineEntry:
    entry = add_timeline(case, kind, body.strip(), author, occurred_at, internal=internal)
    entry.follow_up_on = follow_up_on
    case.updated_at = utcnow()  # a note is a change to the case ("last change")
    db.session.flush()
    details = {"follow_up_on": follow_up_on.isoformat()} if follow_up_on else {}
    audit.record("case.note", case, kind=kind.value, entry_id=entry.id, **details)
    return entry


class NoteError(ValueError):
    """A timeline entry that cannot be changed this way (not a note, or not the user's own)."""


def find_note(case: Case, entry_id) -> TimelineEntry | None:
    """One of the case's timeline entries by its id (from a form), or None."""
    try:
        entry_id = int(entry_id)
    except (TypeError, ValueError):
        return None
    return next((entry for entry in case.timeline if entry.id == entry_id), None)


def can_correct_note(entry: TimelineEntry, user: User) -> bool:
    """Notes (not the app's own entries) are corrected by their author alone, editors included."""
    return TimelineKind(entry.kind) in NOTE_KINDS and entry.author_id is not None and entry.author_id == user.id


def correct_note(entry: TimelineEntry, body: str, actor: User) -> bool:
    """The author corrects their own note; the earlier text is kept and the entry shows as edited.
    Returns False when the text did not change."""
    if not can_correct_note(entry, actor):
        raise NoteError("Only the author of a note can correct it.")
    body = body.strip()
    if body == entry.body:
        return False
    entry.revisions.append(TimelineRevision(body=entry.body, replaced_by=actor))
    entry.body = body
    entry.edited_at = entry.case.updated_at = utcnow()
    audit.record("case.note_edit", entry.case, entry_id=entry.id, revision=len(entry.revisions))
    return True


def finish_follow_up(entry: TimelineEntry, actor: User) -> bool:
    """Mark a note's follow-up done: it leaves My work. False if it was not pending."""
    if entry.follow_up_on is None or entry.follow_up_done_at is not None:
        return False
    entry.follow_up_done_at = utcnow()
    audit.record("case.follow_up_done", entry.case, actor=actor, entry_id=entry.id,
                 follow_up_on=entry.follow_up_on.isoformat())
    return True


def mark_seen_by_assignee(case: Case, user: User) -> bool:
    """The assignee opened the case: it is no longer marked new. Does not count as a change to
    the case (its "last change" time and the search index stay as they are)."""
    if case.assigned_to_id != user.id or case.assignee_seen:
        return False
    db.session.execute(update(Case).where(Case.id == case.id)
                       .values(assignee_seen=True, updated_at=Case.updated_at)
                       .execution_options(synchronize_session=False))
    set_committed_value(case, "assignee_seen", True)  # not a pending change: no flush, no onupdate
    return True


@dataclass
class BulkResult:
    changed: list[str]
    unchanged: list[str]
    refused: list[tuple[str, str]]  # (reference, why)


def bulk_assign(cases: list[Case], assignee: User | None, actor: User) -> BulkResult:
    """Assign several cases at once; each assignment is its own timeline entry and audit event."""
    result = BulkResult([], [], [])
    for case in cases:
        if case.merged_into_id is not None:
            result.refused.append((case.reference, "merged into another case"))
        elif assign_case(case, assignee, actor):
            result.changed.append(case.reference)
        else:
            result.unchanged.append(case.reference)
    return result


def closing_comment(target: Status, reason: str | None) -> str | None:
    """The internal note a status move leaves: a closed case's reason is written as one."""
    reason = (reason or "").strip()
    if not reason:
        return None
    return f"Closed because: {reason}" if target == Status.CLOSED else reason


def bulk_change_status(cases: list[Case], target: Status, actor: User, comment: str | None = None) -> BulkResult:
    """Move several cases at once; a case that cannot make the move is left as it is and named."""
    result = BulkResult([], [], [])
    for case in cases:
        if case.merged_into_id is not None:
            result.refused.append((case.reference, "merged into another case"))
        elif case.status == target.value:
            result.unchanged.append(case.reference)
        else:
            try:
                change_status(case, target, actor, comment)
            except WorkflowError as error:
                result.refused.append((case.reference, str(error)))
            else:
                result.changed.append(case.reference)
    return result


def record_business_response(case: Case, text: str, received_on: date, actor: User) -> None:
    """Store the business's answer; it stops the right-of-reply clock."""
    case.business_response = text.strip()
    case.response_received_on = received_on
    if case.response_requested_on is None:
        case.response_requested_on = received_on
    add_timeline(case, TimelineKind.RESPONSE, f"The business responded on {received_on:%d %B %Y}.", actor)
    audit.record("case.response", case, received_on=received_on.isoformat())


def log_complainant_view(case: Case, purpose: str) -> None:
    """Every view of a complainant's details is audited."""
    audit.record("case.complainant_view", case, purpose=purpose)


def assignable_users() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(["reporter", "editor"])).order_by(User.display_name)
    ))


class MergeError(ValueError):
    """A merge that cannot be done (the same case, or a case already merged away)."""


def consent_warning(duplicate: Case, survivor: Case) -> str:
    """Said before merging two cases whose complainants decided differently about being named."""
    def said(case):
        return "consented to be named" if case.consent_to_publish else "did not consent to be named"

    return (f"The complainant of {duplicate.reference} {said(duplicate)}; the complainant of {survivor.reference} "
            f"{said(survivor)}. After the merge each timeline entry and evidence file keeps its own complainant's "
            f"consent, and outside dossiers withhold the identity of whoever did not consent. Tick the box to merge.")


def _move_outcome_and_stories(duplicate: Case, survivor: Case, actor: User) -> None:
    """Stories about the duplicate are about the survivor now; its outcome moves too unless the
    survivor has one (then the survivor's stands and the timeline says what the duplicate's was),
    so merged cases never drop out of, nor count twice in, the impact figures."""
    for story in list(duplicate.stories):
        if story not in survivor.stories:
            survivor.stories.append(story)
        duplicate.stories.remove(story)
    outcome = duplicate.outcome
    if outcome is None:
        return
    if survivor.outcome is None:
        outcome.case = survivor  # the same row, now the survivor's (the backref empties duplicate.outcome)
    else:
        add_timeline(survivor, TimelineKind.NOTE, f"{duplicate.reference} had its own outcome ({outcome.kind_label}); "
                     f"this case's outcome stands. Correct it here if it should include that one.", actor,
                     internal=True)


def merge_cases(duplicate: Case, survivor: Case, actor: User) -> None:
    """Fold `duplicate` into `survivor`: its timeline, evidence and tags move over, and the
    duplicate stays behind, closed, as a pointer whose address leads to the survivor."""
    if duplicate.id == survivor.id:
        raise MergeError("A case cannot be merged into itself.")
    for case in (duplicate, survivor):
        if case.merged_into_id is not None:
            raise MergeError(f"{case.reference} was already merged into another case.")
    moved_evidence = [item.id for item in duplicate.evidence]
    # Each moved item keeps the complainant it came from: outside dossiers of the survivor still
    # decide by that complainant's consent (an item merged in earlier keeps its first origin).
    for entry in list(duplicate.timeline):
        entry.origin_case = entry.origin_case or duplicate
        entry.case = survivor
    for item in list(duplicate.evidence):
        item.origin_case = item.origin_case or duplicate
        item.case = survivor
        audit.record("evidence.move", item, actor=actor, from_case=duplicate.reference, to_case=survivor.reference)
    _set_tags(survivor, sorted(set(survivor.tag_names) | set(duplicate.tag_names)))
    _set_tags(duplicate, [])
    _move_outcome_and_stories(duplicate, survivor, actor)
    duplicate.merged_into = survivor
    duplicate.status = Status.CLOSED.value
    add_timeline(survivor, TimelineKind.NOTE, f"{duplicate.reference} ({duplicate.title}) was merged into this "
                 f"case: its timeline, evidence and tags are now here.", actor, internal=True)
    add_timeline(duplicate, TimelineKind.NOTE, f"Merged into {survivor.reference}.", actor, internal=True)
    audit.record("case.merge", survivor, actor=actor, duplicate=duplicate.reference, evidence=moved_evidence)
