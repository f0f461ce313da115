"""The JSON API under /api/v1, for scripts and other newsroom tools (bearer tokens).

Routes are flask-smorest blueprints (cases.py, evidence.py, businesses.py, search.py,
dossiers.py), documented from their schemas into the OpenAPI document at
/api/v1/openapi.json; /api/v1/docs shows that document as a page. Tokens: tokens.py (the
model's rules; the page at /account/tokens is auth/token_pages.py), auth.py (the request's gate),
cli.py (`flask users token EMAIL`).
"""
from http import HTTPStatus

from flask import request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import MethodNotAllowed

from ..extensions import csrf
from ..permissions import public
from .auth import API_PREFIX
from .errors import PROBLEM_JSON
from .schemas import ProblemSchema

OPENAPI_ENDPOINT = "api-docs.openapi_json"  # flask-smorest's view of the document
API_DESCRIPTION = (
    "The case archive for scripts and other newsroom tools. Every call needs `Authorization: Bearer <token>`; "
    "a token acts as its account, with that account's permissions. Errors are application/problem+json."
)


class InvestigationsApi(Api):
    """flask-smorest's Api, with errors documented as problem+json and no app-wide error handler."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """flask-smorest would answer every HTTP error of the whole app in JSON. The web keeps
        errors.py's pages; each API blueprint registers its own problem+json handlers."""

    def _register_responses(self):
        """The error responses the operations refer to ("NOT_FOUND", ...), as problem+json."""
        for status in HTTPStatus:
            if status < 400:
                continue
            response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def _register(api: Api, app, blueprint) -> None:
    """Api.register_blueprint, but the operations are tagged with the blueprint's readable tag
    ("Cases") and only that tag is listed, not the blueprint's name."""
    app.extensions["flask-smorest"]["blp_name_to_api"][blueprint.name] = api
    app.register_blueprint(blueprint)
    blueprint.register_views_in_doc(api, app, api.spec, name=blueprint.name, parameters=None)
    api.spec.tag({"name": blueprint.tag, "description": blueprint.description})
    csrf.exempt(blueprint)  # bearer tokens only, never cookies: nothing for CSRF to protect


def init_app(app) -> None:
    """Register the API's routes, its OpenAPI document and its pages."""
    from . import businesses, cases, dossiers, evidence, outcomes, search
    from .reference import bp as reference_bp

    app.config.setdefault("API_TITLE", "Investigations API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": API_DESCRIPTION},
        "security": [{"bearerAuth": []}],
    })
    api = InvestigationsApi(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "An API token from /account/tokens or `flask users token EMAIL`.",
    })
    for module in (cases, evidence, businesses, search, dossiers, outcomes):
        _register(api, app, module.blp)
    app.extensions["investigations_api"] = api

    # The OpenAPI document is public, like the reference page: it describes the API, not the data.
    spec_view = app.view_functions[OPENAPI_ENDPOINT]

    def openapi_json():
        return spec_view()

    app.view_functions[OPENAPI_ENDPOINT] = public(openapi_json)
    app.register_blueprint(reference_bp)

    @app.after_request
    def api_errors_are_problems(response):
        """Errors outside the API's blueprints (an unknown /api/ address, a method a route does not
        take) come from errors.py as JSON: give them the API's content type, and a 405 its Allow."""
        if (request.path.startswith("/api/") and response.status_code >= 400
                and response.mimetype == "application/json"):
            response.mimetype = PROBLEM_JSON
            if isinstance(request.routing_exception, MethodNotAllowed) and "Allow" not in response.headers:
                response.headers["Allow"] = ", ".join(sorted(request.routing_exception.valid_methods or []))
        return response
