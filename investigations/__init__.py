"""The investigations case manager: create_app() builds the Flask application."""
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import cli, errors, security
from .config import REPO_ROOT, Config
from .extensions import csrf, db, limiter, login_manager, migrate
from .models.common import LARGEST_ID
from .permissions import enforce_route_access


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app. `overrides` replaces settings after the environment is read (tests use it)."""
    app = Flask(
        __name__,
        instance_path=str(REPO_ROOT / "instance"),
        template_folder=str(REPO_ROOT / "templates"),
        static_folder=str(REPO_ROOT / "static"),
    )
    instance_dir = Path((overrides or {}).get("INSTANCE_DIR", app.instance_path))
    app.config.update(Config(instance_dir).as_dict())
    app.config.update(overrides or {})

    # Ids in URLs stay within what the databases store, so /evidence/99999999999999999999 is a 404.
    app.url_map.converters["int"] = BoundedIntConverter
    configure_extensions(app)
    configure_blueprints(app)
    configure_templates(app)
    errors.init_app(app)
    cli.init_app(app)
    app.before_request(enforce_route_access)
    security.init_app(app)
    configure_proxy(app)
    return app


def configure_proxy(app: Flask) -> None:
    """Client addresses (audit trail, rate limits, session protection) are request.remote_addr.
    Behind PROXY_FIX_X_FOR trusted proxies, ProxyFix takes it from that many X-Forwarded-For hops
    (counted from the right, so an address the client sent is never used) and the scheme from
    X-Forwarded-Proto; without it, forwarding headers are ignored."""
    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if hops < 0:
        raise RuntimeError("PROXY_FIX_X_FOR is the number of proxies in front of the app: 0 or more.")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=1)


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map, **kwargs):
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, **kwargs)


def configure_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (register the models with SQLAlchemy and Alembic)
    from .database import configure_sqlite

    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    configure_sqlite()

    # Sign-ins are server-side sessions (auth/sessions.py): the cookies' user id is a session's
    # token, refused once that session has ended, idled out or outlived SESSION_LIFETIME_HOURS.
    from .auth import sessions

    login_manager.user_loader(sessions.load_user)
    # "strong" protection fingerprints the client by address and User-Agent; Flask-Login's own
    # fingerprint reads a client-sent X-Forwarded-For, so it is replaced by one that does not.
    login_manager._session_identifier_generator = sessions.session_identifier
    # The remember-me cookie lasts as long as a session may (the server ends it then in any case).
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(hours=app.config["SESSION_LIFETIME_HOURS"]))

def configure_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .api import init_app as init_api
    from .auth import bp as auth_bp
    from .auth.token_pages import bp as token_pages_bp
    from .businesses import bp as businesses_bp
    from .cases import bp as cases_bp
    from .dashboard import bp as dashboard_bp
    from .dossiers import bp as dossiers_bp
    from .evidence import bp as evidence_bp
    from .imports import bp as imports_bp
    from .intake import bp as intake_bp
    from .intake import init_app as init_intake
    from .jobs import init_app as init_jobs
    from .main import bp as main_bp
    from .outcomes.routes import bp as outcomes_bp
    from .replies import bp as replies_bp
    from .search import bp as search_bp
    from .search import init_app as init_search

    for blueprint in (main_bp, auth_bp, token_pages_bp, cases_bp, evidence_bp, dossiers_bp, search_bp, businesses_bp,
                      admin_bp, dashboard_bp, imports_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(replies_bp)
    app.register_blueprint(outcomes_bp)
    app.register_blueprint(intake_bp)
    init_intake(app)
    init_search(app)
    init_api(app)
    init_jobs(app)


def configure_templates(app: Flask) -> None:
    from . import template_helpers

    template_helpers.init_app(app)
