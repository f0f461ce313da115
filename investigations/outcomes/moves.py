"""Resolving or closing a case records its outcome in the same step.

The case page's *Mark resolved* and *Close* forms carry the outcome's fields (prefixed with the
target status: "resolved-kind", "closed-kind", …) next to the status move. Resolving needs an
outcome (what happened); closing needs an outcome or a reason (a complainant who withdrew has no
outcome). A case that already has an outcome shows it in those forms, to confirm or correct.
"""
from flask_login import current_user

from ..models.cases import Status
from ..permissions import can_edit_case, can_view_case
from .forms import OutcomeForm, StoryForm
from .services import OutcomeInvalid, save_outcome

OUTCOME_MOVES = (Status.RESOLVED, Status.CLOSED)
RESOLVE_NEEDS_OUTCOME = "Say what happened: a resolved case records its outcome (and any money recovered)."
BULK_RESOLVE_REFUSED = ("Resolve cases one at a time, from each case's page: resolving records what happened "
                        "(the outcome and any money recovered).")
CLOSE_NEEDS_REASON = ("Say why the case is closed, or record its outcome: the reason stays on its timeline.")


def move_outcome_form(case, target: Status, posted: bool = False) -> OutcomeForm | None:
    """The outcome part of a move to `target` (None for moves that ask for none): from the request
    when `posted`, otherwise showing the case's recorded outcome. The move's own form checks CSRF."""
    if target not in OUTCOME_MOVES:
        return None
    if posted:
        return OutcomeForm(prefix=target.value, meta={"csrf": False})
    form = OutcomeForm(formdata=None, prefix=target.value, meta={"csrf": False})
    form.fill_from(case)
    return form


def move_problem(target: Status, reason: str | None, form: OutcomeForm | None) -> str | None:
    """Why a posted move to `target` cannot be made as sent (the move's own rules aside), or None."""
    if form is None:
        return None
    if not form.kind.data:
        if target == Status.RESOLVED:
            form.kind.errors = [RESOLVE_NEEDS_OUTCOME]
            return RESOLVE_NEEDS_OUTCOME
        if not (reason or "").strip():
            return CLOSE_NEEDS_REASON
        return None  # closed with a reason and no outcome
    if not form.validate():
        return "Check the outcome: " + " ".join(error for errors in form.errors.values() for error in errors)
    return None


def record_move_outcome(case, form: OutcomeForm | None, actor) -> None:
    """Save the outcome sent with a move, if one was; OutcomeInvalid if it cannot be recorded."""
    if form is not None and form.kind.data:
        save_outcome(case, form.outcome_data(), actor)


def outcome_page_context(case, given: dict | None = None) -> dict:
    """The case page's outcome and story forms; `given` holds forms sent back with their errors."""
    given = dict(given or {})
    may_edit = can_edit_case(current_user, case)
    moves = given.pop("move_forms", {})
    context = {
        "move_outcome_forms": {target.value: moves.get(target.value) or move_outcome_form(case, target)
                               for target in OUTCOME_MOVES},
        "outcome_form": None, "story_form": None,
        # Each story's other cases, those the viewer may open
        "story_others": {story.id: [other for other in story.cases if other.id != case.id
                                    and other.merged_into_id is None and can_view_case(current_user, other)]
                         for story in case.stories},
    }
    if may_edit:
        outcome_form = given.get("outcome_form")
        if outcome_form is None:
            outcome_form = OutcomeForm(formdata=None, prefix="outcome")
            outcome_form.fill_from(case)
        context["outcome_form"] = outcome_form
        context["story_form"] = given.get("story_form") or StoryForm(formdata=None, prefix="story")
    return context


__all__ = ["BULK_RESOLVE_REFUSED", "OutcomeInvalid", "move_outcome_form", "move_problem", "outcome_page_context", "record_move_outcome"]
