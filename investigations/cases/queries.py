"""Reading cases: the permission-filtered list with its filters, and lookup by reference."""
from datetime import date

from flask import abort, redirect, request, url_for
from sqlalchemy import Select, false, select
from sqlalchemy.orm import joinedload

from ..businesses.services import find_business
from ..extensions import db
from ..models import Case, User
from ..models.cases import Status
from ..models.common import LARGEST_ID
from ..permissions import can_view_case, require, visible_cases_clause

OPEN_STATUSES = [Status.NEW.value, Status.INVESTIGATING.value, Status.AWAITING_RESPONSE.value]


def overdue_clause(today: date | None = None):
    return (
        (Case.status == Status.AWAITING_RESPONSE.value)
        & Case.response_received_on.is_(None)
        & (Case.response_due_on < (today or date.today()))
    )


def case_list_query(user: User, filters: dict) -> Select:
    """Cases `user` may see, narrowed by the list's filters, newest first."""
    query = (
        select(Case)
        .where(visible_cases_clause(user), Case.merged_into_id.is_(None))
        .options(joinedload(Case.business), joinedload(Case.assigned_to))
        .order_by(Case.date_received.desc(), Case.id.desc())
    )
    status = filters.get("status")
    if status == "open":
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(Case.status == status)
    if filters.get("category"):
        query = query.where(Case.category == filters["category"])
    if filters.get("business"):
        business = find_business(filters["business"])
        query = query.where(Case.business_id == (business.id if business else -1))
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
    return query


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
