"""The investigations case manager: create_app() builds the Flask application."""
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
    if app.config.get("PROXY_FIX_X_FOR"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)
    return app


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

    @login_manager.user_loader
    def load_user(session_user_id: str):
        """Sessions carry "id:version"; a password change or reset raises the version and ends them."""
        user_id, _, version = session_user_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(models.User, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user


def configure_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .api import init_app as init_api
    from .auth import bp as auth_bp
    from .businesses import bp as businesses_bp
    from .cases import bp as cases_bp
    from .dashboard import bp as dashboard_bp
    from .dossiers import bp as dossiers_bp
    from .evidence import bp as evidence_bp
    from .evidence import init_app as init_evidence
    from .imports import bp as imports_bp
    from .imports import init_app as init_imports
    from .main import bp as main_bp
    from .search import bp as search_bp
    from .search import init_app as init_search

    for blueprint in (main_bp, auth_bp, cases_bp, evidence_bp, dossiers_bp, search_bp, businesses_bp, admin_bp,
                      dashboard_bp, imports_bp):
        app.register_blueprint(blueprint)
    init_evidence(app)
    init_imports(app)
    init_search(app)
    init_api(app)


def configure_templates(app: Flask) -> None:
    from . import template_helpers

    template_helpers.init_app(app)
