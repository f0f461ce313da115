"""Who is calling the API: the bearer token, and nothing else.

Every API view's permission decision is declared where the web's are, in permissions.py:
`ApiBlueprint.route` gives each view the API_TOKEN level (any valid token), or keeps the
API_EDITOR level of an `@editors_only` view, and refuses a view that declares anything else
(a `@public` API view cannot be registered). `enforce_route_access` (permissions.py), which
runs before every request, sees those levels and calls `authenticate` below: it answers 401
(problem+json) unless the request carries `Authorization: Bearer <token>` with an unrevoked,
unexpired token of an active account. That account is then the request's current user, so the
object rules (can_view_case, visible_cases_clause, ...) and the audit trail apply to it exactly
as on the web. A session cookie never authenticates an API request: the API cannot be driven by
a browser's cookies, and so needs no CSRF token. Only the OpenAPI document and the reference
page are @public.
"""
import re
from http import HTTPStatus

from flask import g, request
from flask_smorest import Blueprint

from ..permissions import API_EDITOR, API_TOKEN, TOKEN_LEVELS, api_editor, api_token
from .errors import PROBLEM_JSON, problem, register_handlers
from .schemas import ProblemSchema
from .tokens import find_token, note_use

API_PREFIX = "/api/v1"
TOKEN = API_TOKEN  # any valid token; object rules (can_view_case, ...) decide the rest
EDITOR = API_EDITOR  # a token of an editor or admin
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
    """For enforce_route_access (permissions.py), on every API route: the token's account becomes
    the current user, or the answer is a 401 problem."""
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
    """Declare an editors' operation (below @blp.route): 403 for reporters' tokens before anything
    else is read, as the web's @editor_only gives."""
    return api_editor(what)


def api_level(view) -> str:
    """What an API view needs: API_EDITOR (an editor's token) or API_TOKEN (any valid token)."""
    return getattr(view, "access_level", None)


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
            level = getattr(view, "access_level", None)
            if level is None:
                view = api_token(view)
            elif level not in TOKEN_LEVELS:
                raise RuntimeError(f"API view {view.__name__} declares {level!r}: API views take a token "
                                   f"(the default) or @editors_only, never a web access level.")
            register(self.problem(401)(view))
            return view

        return decorator

    def problem(self, status: int, description: str | None = None):
        """Document an error answer (problem+json) of an operation: @blp.problem(404)."""
        if description is None:
            return self.alt_response(status, response=HTTPStatus(status).name)
        return self.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_JSON, description=description)
