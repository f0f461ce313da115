"""Deactivating someone who still has open cases: the admin is warned, and may hand the cases
to someone else in the same step (each reassignment audited and on its case's timeline)."""
from sqlalchemy import select

from ..cases.notify import notify_assignment
from ..cases.queries import OPEN_STATUSES
from ..cases.services import assign_case, assignable_users
from ..extensions import db
from ..models import Case, User

KEEP = "keep"  # leave the cases assigned to the deactivated account (the list's filter still finds them)
NOBODY = "none"


def open_cases_of(user: User) -> list[Case]:
    return list(db.session.scalars(
        select(Case).where(Case.assigned_to_id == user.id, Case.merged_into_id.is_(None),
                           Case.status.in_(OPEN_STATUSES)).order_by(Case.reference)))


def reassign_choices(user: User) -> list[tuple[str, str]]:
    return ([("", "Choose…")]
            + [(str(u.id), u.display_name) for u in assignable_users() if u.id != user.id]
            + [(NOBODY, "Nobody: leave them unassigned"),
               (KEEP, f"Leave them with {user.display_name} (deactivated)")])


def reassign_open_cases(user: User, choice: str, actor: User) -> tuple[list[Case], User | None]:
    """Hand `user`'s open cases to the person chosen (or to nobody); (cases moved, new assignee).
    The caller commits, then calls notify_moved()."""
    if choice == KEEP:
        return [], None
    target = None
    if choice != NOBODY:
        target = db.session.get(User, int(choice))
        if target is None or not target.active or target.id == user.id:
            raise ValueError("Choose someone active to take the cases over.")
    moved = [case for case in open_cases_of(user) if assign_case(case, target, actor)]
    return moved, target


def notify_moved(moved: list[Case], target: User | None, actor: User) -> None:
    notify_assignment(target, moved, actor)
