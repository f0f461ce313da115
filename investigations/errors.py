"""One error page for every status code, in the app's layout (or JSON for API clients)."""
from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back, check what you entered and try again."),
    403: ("Not allowed", "Your account does not have permission to do this. Ask an editor or admin if you need it."),
    404: ("Not found", "There is nothing at this address, or it is not shared with you."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("File too large", None),
    429: ("Too many attempts", "Too many requests in a short time. Wait a minute, then try again."),
    500: ("Something went wrong", "The error has been logged. Nothing you entered was half-saved; please try again."),
}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (
        best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, ("Error", "The request could not be completed."))
    if status == 413:
        total_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // 2**20
        default = (f"Each file may be at most {current_app.config['MAX_UPLOAD_MB']} MB, and one upload at most "
                   f"{total_mb} MB in all. Nothing was stored; try again with smaller or fewer files.")
    message = message or default
    if wants_json():
        return jsonify(status=status, title=title, detail=message), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, "This form was sent without a valid security token, so nothing was saved. "
                                 "Reload the page and submit it again.")

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 429:
            return render_error(429)
        if error.code and error.code < 400:
            return error
        custom = error.description if error.description != type(error).description else None
        return render_error(error.code or 500, custom)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(InternalServerError.code)
