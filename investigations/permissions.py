"""Who may do what: the one place for permission decisions.

Routes declare their access level with one of the decorators below. `enforce_route_access`
runs before every request and refuses any route that declares none, so a new route
without a permission decision fails closed (and fails tests/test_route_permissions.py).
Object-level rules (which cases a user may see) are the functions further down; views,
search and exports all call them.

The JSON API's routes have levels of their own, API_TOKEN and API_EDITOR, which the API's
blueprint (api/auth.py, ApiBlueprint) gives every route it registers: for them
`enforce_route_access` asks for a bearer token (api/auth.py's `authenticate`), never a
session cookie, and answers 401/403 as problem+json. Only the OpenAPI document and the
reference page under /api/v1 are @public.
"""
from dataclasses import dataclass

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import or_

from .models import Case, User
from .models.cases import Status

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any active account; object rules below narrow it further
EDITOR = "editor"  # editors and admins
ADMIN = "admin"
API_TOKEN = "api_token"  # a valid API bearer token (never a session); object rules narrow it further
API_EDITOR = "api_editor"  # a valid API bearer token of an editor or admin

ACCESS_LEVELS = (PUBLIC, SIGNED_IN, EDITOR, ADMIN, API_TOKEN, API_EDITOR)
# What the token's account must be, for each API level.
TOKEN_LEVELS = {API_TOKEN: SIGNED_IN, API_EDITOR: EDITOR}


def _declare(level: str):
    def decorator(view):
        view.access_level = level
        return view

    return decorator


public = _declare(PUBLIC)
signed_in = _declare(SIGNED_IN)
editor_only = _declare(EDITOR)
admin_only = _declare(ADMIN)
api_token = _declare(API_TOKEN)


def api_editor(what: str):
    """An editors' API operation: 403 for a reporter's token, saying "Only editors and admins may <what>"."""

    def decorator(view):
        view.access_level = API_EDITOR
        view.refusal = f"Only editors and admins may {what}."
        return view

    return decorator


def route_access_level(endpoint: str | None) -> str | None:
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return getattr(view, "access_level", None)


def user_meets_level(user, level: str) -> bool:
    if level == PUBLIC:
        return True
    if not user.is_authenticated:
        return False
    if level == SIGNED_IN:
        return True
    if level == EDITOR:
        return user.is_editor
    if level == ADMIN:
        return user.is_admin
    return False


def enforce_route_access():
    """before_request hook: apply the route's declared access level."""
    if request.endpoint is None:
        return None  # 404 or 405: let Flask answer
    level = route_access_level(request.endpoint)
    if level is None:
        current_app.logger.error("Route %s declares no access level; refusing.", request.endpoint)
        abort(403)
    if level in TOKEN_LEVELS:
        return _enforce_token_access(level)
    if level != PUBLIC and not current_user.is_authenticated:
        from .extensions import login_manager

        return login_manager.unauthorized()
    if not user_meets_level(current_user, level):
        abort(403)
    return None


def _enforce_token_access(level: str):
    """An API route: the bearer token's account becomes the current user (a session cookie never
    does), or the answer is 401; then the account must meet the level (403)."""
    from .api.auth import authenticate

    refused = authenticate()
    if refused is not None:
        return refused
    if not user_meets_level(current_user, TOKEN_LEVELS[level]):
        view = current_app.view_functions.get(request.endpoint)
        abort(403, getattr(view, "refusal", None) or "Your account may not do this.")
    return None


# --- Cases -----------------------------------------------------------------------------

EDITOR_ONLY_STATUSES = {Status.PUBLISHED, Status.CLOSED}


@dataclass(frozen=True)
class CaseVisibility:
    """Which cases a person sees, said once: every case (editors, admins), or the cases they filed
    or are assigned. The SQL filter below and each search engine's filter are built from this."""
    every_case: bool
    person_id: int | None = None
    # A case's fields, named alike in every search document (the SQL column adds "_id"), that
    # make it the person's own.
    OWN_CASE_FIELDS = ("created_by", "assigned_to")


def case_visibility(user: User) -> CaseVisibility:
    return CaseVisibility(every_case=True) if user.is_editor else CaseVisibility(every_case=False, person_id=user.id)


def visible_cases_clause(user: User):
    """A SQL condition selecting the cases `user` may see (use in every case query)."""
    visibility = case_visibility(user)
    if visibility.every_case:
        return Case.id.isnot(None)
    return or_(*(getattr(Case, f"{field}_id") == visibility.person_id for field in visibility.OWN_CASE_FIELDS))


def can_view_case(user: User, case: Case) -> bool:
    if not user.is_authenticated:
        return False
    visibility = case_visibility(user)
    return visibility.every_case or any(getattr(case, f"{field}_id") == visibility.person_id
                                        for field in visibility.OWN_CASE_FIELDS)


def can_edit_case(user: User, case: Case) -> bool:
    """Reporters edit their cases until an editor publishes or closes them."""
    if not can_view_case(user, case):
        return False
    return user.is_editor or case.status_enum not in EDITOR_ONLY_STATUSES


def can_assign(user: User) -> bool:
    return user.is_authenticated and user.is_editor


def can_move_case(user: User, case: Case, target: Status) -> bool:
    """Publishing and closing, and reopening a closed case, are editors' moves."""
    if not can_edit_case(user, case):
        return False
    if target in EDITOR_ONLY_STATUSES or case.status_enum in EDITOR_ONLY_STATUSES:
        return user.is_editor
    return True


def allowed_moves(user: User, case: Case) -> list[Status]:
    """The statuses `user` may move `case` to now: the workflow's moves from its status that are
    theirs to make. The case page's buttons and the API's `allowed_moves` both come from here."""
    from .cases.workflow import TRANSITIONS

    return [target for target in TRANSITIONS[case.status_enum] if can_move_case(user, case, target)]


# --- Dossiers --------------------------------------------------------------------------


def can_view_dossier(user: User, dossier) -> bool:
    """Case dossiers of cases `user` may see; business dossiers (about every case against a
    business) for editors only."""
    if dossier is None or not user.is_authenticated:
        return False
    if user.is_editor:
        return True
    return dossier.case is not None and can_view_case(user, dossier.case)


def visible_dossiers_clause(user: User):
    """A SQL condition selecting the dossiers `user` may list (the same rule as can_view_dossier)."""
    from .models import Dossier

    if user.is_editor:
        return Dossier.id.isnot(None)
    return Dossier.case_id.in_(select_visible_case_ids(user))


def select_visible_case_ids(user: User):
    from sqlalchemy import select

    return select(Case.id).where(visible_cases_clause(user))


def require(condition: bool) -> None:
    """Abort with 404 unless `condition`; a hidden case looks the same as a missing one."""
    if not condition:
        abort(404)
