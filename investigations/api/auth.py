"""Who is calling the API: the bearer token, and nothing else.

Why API views are marked `@public` at the route level: `enforce_route_access`
(permissions.py) knows sessions only; it would send a token client to the sign-in page. So
every API view declares `@public` to it, and the API's own gate takes over: every
`ApiBlueprint` runs `authenticate` before its views and answers 401 (problem+json) unless
the request carries `Authorization: Bearer <token>` with an unrevoked, unexpired token of an
active account. That account is then the request's current user, so the object rules
(can_view_case, visible_cases_clause, ...) and the audit trail apply to it exactly as on the
web. A session cookie never authenticates an API request: the API cannot be driven by a
browser's cookies, and so needs no CSRF token. `@public` is safe here only because of that gate:
never put an API view on another blueprint.
"""
import re
from functools import wraps
from http import HTTPStatus

from flask import g, request
from flask_login import current_user
from flask_smorest import Blueprint

from .errors import PROBLEM_JSON, fail, problem, register_handlers
from .schemas import ProblemSchema
from .tokens import find_token, note_use

API_PREFIX = "/api/v1"
TOKEN = "token"  # any valid token; object rules (can_view_case, ...) decide the rest
EDITOR = "editor"  # a token of an editor or admin
REALM = 'Bearer realm="Investigations API"'
PATH_PARAMETERS = {
    "reference": "A case's reference, e.g. C-2026-00042.",
    "evidence_id": "An evidence file's id.",
    "dossier_id": "A dossier's number.",
    "slug": "A business's slug, as in its address on the web: acme-appliances.",
}


def bearer_secret() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate():
    """before_request of every API blueprint: the token's account becomes the current user."""
    secret = bearer_secret()
    if secret is None:
        return problem(401, "Send an API token in the Authorization header: `Authorization: Bearer <token>`. "
                            "Create one under your account's API tokens, or with `flask users token EMAIL`.",
                       headers={"WWW-Authenticate": REALM})
    token = find_token(secret)
    if token is None or token.revoked_at is not None or not token.user.active:
        return problem(401, "This API token is not valid: it is unknown or revoked, or its account is deactivated.",
                       headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    if token.is_expired:
        return problem(401, f"This API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC. Create a new one "
                            f"under your account's API tokens (/account/tokens).",
                       headers={"WWW-Authenticate": f'{REALM}, error="invalid_token", '
                                                    f'error_description="The token expired"'})
    # Flask-Login's current_user reads g._login_user and loads it from the session only when it
    # is absent: setting it here (what login_user does, without writing the session) makes the
    # token's account the current user for this request alone.
    g._login_user = token.user
    note_use(token)
    return None


def editors_only(what: str):
    """Declare an editors' operation (below @public): 403 for reporters before anything else is
    read, as the web's @editor_only gives. `api_level` tells tests which operations these are."""

    def decorator(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not current_user.is_editor:
                fail(403, f"Only editors and admins may {what}.")
            return view(*args, **kwargs)

        checked.api_level = EDITOR
        return checked

    return decorator


def api_level(view) -> str:
    """What an API view needs besides a valid token: "editor" or nothing more ("token")."""
    return getattr(view, "api_level", TOKEN)


def _not_cached(response):
    """Answers are one account's view of confidential data: no cache keeps them (files set their own)."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class ApiBlueprint(Blueprint):
    """A blueprint of API routes under /api/v1: token required, errors as problem+json,
    operations documented under `tag` in the OpenAPI document."""

    def __init__(self, name: str, import_name: str, *, tag: str, description: str):
        super().__init__(name, import_name, url_prefix=API_PREFIX, description=description)
        self.tag = tag
        self.before_request(authenticate)
        self.after_request(_not_cached)
        register_handlers(self)

    def route(self, rule, *, parameters=None, tags=None, **options):
        """Blueprint.route, tagged with this blueprint's tag, with its path parameters described
        and the gate's 401 documented."""
        described = [{"in": "path", "name": name, "description": text} for name, text in PATH_PARAMETERS.items()
                     if re.search(rf"<(?:[^:<>]+:)?{name}>", rule)]
        register = super().route(rule, parameters=[*described, *(parameters or [])], tags=tags or [self.tag],
                                 **options)

        def decorator(view):
            register(self.problem(401)(view))
            return view

        return decorator

    def problem(self, status: int, description: str | None = None):
        """Document an error answer (problem+json) of an operation: @blp.problem(404)."""
        if description is None:
            return self.alt_response(status, response=HTTPStatus(status).name)
        return self.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_JSON, description=description)
