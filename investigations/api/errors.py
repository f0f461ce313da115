"""API errors as problem details (RFC 9457, `application/problem+json`).

Every error an API route gives (bad token, hidden case, refused move, invalid field, even an
unexpected failure) has the same body: `type`, `title`, `status`, `detail`, and for invalid
input `errors`, the messages of each field: {"title": ["Shorter than minimum length 3."]}.
"""
import json
from http import HTTPStatus

from flask import abort, current_app, request
from werkzeug.exceptions import HTTPException

from ..extensions import db

PROBLEM_JSON = "application/problem+json"

DETAILS = {
    400: "The request could not be understood.",
    401: "Send an API token in the Authorization header: `Authorization: Bearer <token>`.",
    403: "Your account may not do this.",
    404: "There is nothing at this address, or it is not shared with you.",
    405: "This address does not accept that method.",
    409: "The request conflicts with the current state of the resource.",
    415: "This address does not accept that content type.",
    422: "Some of the data sent is not valid; `errors` says what, field by field.",
    429: "Too many requests in a short time. Wait a minute, then try again.",
    500: "Something went wrong on the server. The error has been logged; nothing was half-saved.",
}


def problem(status: int, detail: str | None = None, errors: dict | None = None, headers: dict | None = None):
    """A problem+json response."""
    title = _status_title(status)
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or DETAILS.get(status, title)}
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def fail(status: int, detail: str | None = None, errors: dict | None = None):
    """Stop the request with a problem response: fail(422, errors={"assignee_id": ["…"]})."""
    try:
        abort(status, detail)
    except HTTPException as error:
        error.data = {"errors": errors} if errors else {}
        raise


def field_errors(messages) -> dict:
    """webargs names each message's location ({"json": {"title": [...]}}); clients want the fields."""
    if not isinstance(messages, dict):
        return {"_request": messages}
    merged: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            merged.update(fields)
        else:
            merged[f"_{location}"] = fields
    return merged


def handle_http_exception(error: HTTPException):
    if error.code is None or error.code < 400:
        return error  # redirects and the like are answers, not errors
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:  # webargs: a field that does not validate
        errors = field_errors(data["messages"])
    detail = data.get("message")
    if detail is None and error.description != type(error).description:
        detail = error.description  # abort(404, "The stored file is missing…")
    if error.code == 413:
        detail = detail or (f"Each file may be at most {current_app.config['MAX_UPLOAD_MB']} MB. "
                            "Nothing of this upload was stored.")
    headers = dict(data.get("headers") or {})
    allow = dict(error.get_headers()).get("Allow")  # 405 says which methods would do
    if allow:
        headers["Allow"] = allow
    return problem(error.code, detail, errors, headers)


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return problem(500)


def register_handlers(blueprint) -> None:
    blueprint.register_error_handler(HTTPException, handle_http_exception)
    blueprint.register_error_handler(Exception, handle_unexpected_error)
