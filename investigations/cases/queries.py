"""Reading cases: the permission-filtered list with its filters and sorting, lookup by
reference, and what is due for one person (My work)."""
from dataclasses import dataclass, field
from datetime import date

from flask import abort, redirect, request, url_for
from sqlalchemy import Select, and_, bindparam, false, func, or_, select
from sqlalchemy import case as case_when
from sqlalchemy.orm import joinedload

from ..businesses.naming import normalize_business_name
from ..businesses.services import find_business
from ..extensions import db
from ..models import Business, BusinessAlias, Case, TimelineEntry, User
from ..models.cases import Status
from ..models.common import LARGEST_ID
from ..outcomes.queries import apply_outcome_filters
from ..permissions import can_view_case, require, visible_cases_clause
from ..template_helpers import local_today

OPEN_STATUSES = [Status.NEW.value, Status.INVESTIGATING.value, Status.AWAITING_RESPONSE.value]


def overdue_clause(today: date | None = None):
    return (
        (Case.status == Status.AWAITING_RESPONSE.value)
        & Case.response_received_on.is_(None)
        & (Case.response_due_on < (today or local_today()))
    )


# The case list's sortable columns: ?sort=<key>&dir=asc|desc. Ties fall back to newest first.
SORT_COLUMNS = {
    "reference": Case.reference,
    "title": func.lower(Case.title),
    "business": func.lower(Business.name),
    "status": Case.status,
    "due": Case.response_due_on,
    "received": Case.date_received,
    "assignee": func.lower(User.display_name),
}
SORT_LABELS = {"reference": "Reference", "title": "Title", "business": "Business", "status": "Status",
               "due": "Reply due", "received": "Received", "assignee": "Assigned to"}


def business_match_clause(text: str):
    """Cases against a business whose name or alias is `text` or contains it ("glob" finds Globex Corp.)."""
    text = " ".join(text.split()).lower()[:200]
    normalized = normalize_business_name(text)
    exact = find_business(text)
    like = [func.lower(Business.name).contains(text, autoescape=True)]
    if normalized:
        like += [Business.normalized_name.contains(normalized, autoescape=True),
                 Business.id.in_(select(BusinessAlias.business_id).where(
                     BusinessAlias.normalized_name.contains(normalized, autoescape=True)))]
    matching = select(Business.id).where(or_(*like))
    clauses = [Case.business_id.in_(matching)]
    if exact is not None:
        clauses.append(Case.business_id == exact.id)
    return or_(*clauses)


def case_list_query(user: User, filters: dict) -> Select:
    """Cases `user` may see, narrowed by the list's filters; newest first unless sorted by a column."""
    query = (
        select(Case)
        .where(visible_cases_clause(user), Case.merged_into_id.is_(None))
        .options(joinedload(Case.business), joinedload(Case.assigned_to))
    )
    sort = filters.get("sort")
    if sort in SORT_COLUMNS:
        column = SORT_COLUMNS[sort]
        if sort == "business":
            query = query.join(Business, Case.business_id == Business.id)
        elif sort == "assignee":
            query = query.outerjoin(User, Case.assigned_to_id == User.id)
        ordered = column.desc() if filters.get("dir") == "desc" else column.asc()
        # Empty values (no due date, nobody assigned) last, in either direction.
        query = query.order_by(case_when((column.is_(None), 1), else_=0), ordered)
    query = query.order_by(Case.date_received.desc(), Case.id.desc())
    status = filters.get("status")
    if status == "open":
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif status and status != "all":
        query = query.where(Case.status == status)
    if filters.get("category"):
        query = query.where(Case.category == filters["category"])
    if filters.get("business"):
        query = query.where(business_match_clause(filters["business"]))
    assignee = filters.get("assignee")
    if assignee == "me":
        query = query.where(Case.assigned_to_id == user.id)
    elif assignee == "none":
        query = query.where(Case.assigned_to_id.is_(None))
    elif assignee and assignee.isascii() and assignee.isdigit():  # "²".isdigit() is True too
        assignee_id = int(assignee)
        query = query.where(Case.assigned_to_id == assignee_id if assignee_id <= LARGEST_ID else false())
    if filters.get("overdue"):
        query = query.where(overdue_clause())
    query = source_filters(query, filters)
    return apply_outcome_filters(query, filters)


SOURCE_TEXT_FILTERS = {"product": Case.product, "issue": Case.issue, "company_response": Case.company_response}


def source_filters(query: Select, filters: dict) -> Select:
    """Where cases came from (?source=cfpb) and the CFPB's fields, each matched on any part of its
    value in any case (?product=debt finds "Debt collection"; the case page links the whole value)."""
    if filters.get("source"):
        query = query.where(Case.source == filters["source"])
    if filters.get("source_id"):  # the API's: an exact ID
        query = query.where(Case.source_id == filters["source_id"])
    for name, column in SOURCE_TEXT_FILTERS.items():
        text = " ".join((filters.get(name) or "").split())[:200]
        if text:
            query = query.where(func.lower(column).contains(text.lower(), autoescape=True))
    return query


def business_suggestions(user: User, limit: int = 500) -> list[str]:
    """Names for the business filter's suggestions: businesses of cases `user` may open, so the
    list never hints at a case they cannot see."""
    return list(db.session.scalars(
        select(Business.name).where(Business.id.in_(
            select(Case.business_id).where(visible_cases_clause(user), Case.merged_into_id.is_(None))))
        .order_by(func.lower(Business.name)).limit(limit)))


def assignee_filter_users() -> list[tuple[User, bool]]:
    """People the list can be narrowed to: (user, deactivated). Everyone who can be assigned a case,
    and anyone, deactivated or not, who still has cases assigned, so their cases can be found."""
    with_cases = select(Case.assigned_to_id).where(Case.assigned_to_id.is_not(None))
    users = db.session.scalars(
        select(User).where(or_(and_(User.active.is_(True), User.role.in_(["reporter", "editor"])),
                               User.id.in_(with_cases)))
        .order_by(User.active.desc(), func.lower(User.display_name)))
    return [(u, not u.active) for u in users]


def get_visible_case(reference: str, user: User) -> Case:
    """The case with this reference if `user` may see it; otherwise 404, never its content.

    A duplicate merged into another case leads there: pages redirect, changes are refused.
    """
    case = find_visible_case(reference, user)
    require(case is not None)
    if case.merged_into_id is not None:
        survivor = merge_survivor(case, user)
        if request.method in ("GET", "HEAD"):
            abort(redirect(url_for("cases.detail", reference=survivor.reference, merged=case.reference)))
        abort(409, merged_message(case, survivor))
    return case


def find_visible_case(reference: str, user: User) -> Case | None:
    """The case with this reference if `user` may see it, merged duplicates included."""
    return db.session.scalar(
        select(Case).where(Case.reference == reference.strip().upper(), visible_cases_clause(user)))


def merge_survivor(duplicate: Case, user: User) -> Case:
    """The case `duplicate` was merged into; 404 if `user` may not see it (its reference included)."""
    survivor = duplicate.merged_into
    require(can_view_case(user, survivor))
    return survivor


def merged_message(duplicate: Case, survivor: Case) -> str:
    return f"{duplicate.reference} was merged into {survivor.reference}; make changes there."


# --- My work -----------------------------------------------------------------------------

def _mine(user: User):
    """Cases that are this person's to work: assigned to them, or filed by them and unassigned."""
    return or_(Case.assigned_to_id == user.id, and_(Case.assigned_to_id.is_(None), Case.created_by_id == user.id))


# Counted for the navigation on every page: the statement is built once (building it cost twice
# running it); ix_cases_unseen_assignments answers it.
_UNSEEN_ASSIGNMENTS = select(func.count()).select_from(Case).where(
    Case.assigned_to_id == bindparam("user_id"), Case.assignee_seen.is_(False), Case.merged_into_id.is_(None))


def unseen_assignments_count(user: User) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return db.session.scalar(_UNSEEN_ASSIGNMENTS, {"user_id": user.id}) or 0


NEXT_ACTIONS = {
    Status.NEW.value: "Start investigating",
    Status.INVESTIGATING.value: "Ask the business for its side",
    Status.AWAITING_RESPONSE.value: "Wait for the business’s reply",
}


@dataclass
class WorkItem:
    case: Case
    new: bool
    next_action: str
    due_on: date | None
    overdue: bool
    follow_ups: list[TimelineEntry] = field(default_factory=list)


@dataclass
class MyWork:
    cases: list[WorkItem]
    replies: list[Case]          # right-of-reply deadlines on my open cases, soonest first
    follow_ups: list[TimelineEntry]  # callbacks and other follow-ups not yet done, soonest first
    today: date

    @property
    def new_count(self) -> int:
        return sum(1 for item in self.cases if item.new)


def my_work(user: User, today: date) -> MyWork:
    """What is on one person's plate: their open cases with the next action and due date, the
    businesses' reply deadlines, and the follow-ups promised in call and meeting notes."""
    cases = list(db.session.scalars(
        select(Case).where(_mine(user), visible_cases_clause(user), Case.merged_into_id.is_(None),
                           Case.status.in_(OPEN_STATUSES))
        .options(joinedload(Case.business))
        .order_by(Case.date_received.desc(), Case.id.desc())).unique())
    # Follow-ups on my cases, and those I promised on any case I may see.
    follow_ups = list(db.session.scalars(
        select(TimelineEntry).join(Case, TimelineEntry.case_id == Case.id)
        .where(TimelineEntry.follow_up_on.is_not(None), TimelineEntry.follow_up_done_at.is_(None),
               Case.merged_into_id.is_(None), visible_cases_clause(user),
               or_(_mine(user), TimelineEntry.author_id == user.id))
        .options(joinedload(TimelineEntry.case).joinedload(Case.business), joinedload(TimelineEntry.author))
        .order_by(TimelineEntry.follow_up_on, TimelineEntry.id)).unique())
    by_case: dict[int, list[TimelineEntry]] = {}
    for entry in follow_ups:
        by_case.setdefault(entry.case_id, []).append(entry)

    items = []
    for case in cases:
        pending = by_case.get(case.id, [])
        dates = [entry.follow_up_on for entry in pending]
        action = NEXT_ACTIONS.get(case.status, "")
        if case.status == Status.AWAITING_RESPONSE.value and case.response_received_on is None \
                and case.response_due_on:
            dates.append(case.response_due_on)
            if case.is_overdue(today):
                action = "Reply overdue: chase the business or go ahead without it"
        elif case.status == Status.AWAITING_RESPONSE.value and case.response_received_on:
            action = "Read the business’s response and resolve"
        if pending and (not dates or pending[0].follow_up_on <= min(dates)):
            action = f"{pending[0].kind_label} follow-up: {_excerpt(pending[0].body)}"
        due = min(dates) if dates else None
        items.append(WorkItem(case, new=case.assigned_to_id == user.id and not case.assignee_seen,
                              next_action=action, due_on=due, overdue=bool(due and due < today),
                              follow_ups=pending))
    # New first, then by due date (soonest first, none last), then newest.
    items.sort(key=lambda item: (not item.new, item.due_on is None, item.due_on or today))
    replies = sorted((c for c in cases if c.status == Status.AWAITING_RESPONSE.value
                      and c.response_received_on is None and c.response_due_on), key=lambda c: c.response_due_on)
    return MyWork(cases=items, replies=replies, follow_ups=follow_ups, today=today)


def _excerpt(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"
