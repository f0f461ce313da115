"""Fixtures: an app on a migrated database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set),
clients signed in as each role, and helpers to file cases.

The schema is built once per run by the real migrations; each test then starts from empty tables.
"""
import email
import email.policy
import os
import re
import socket
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from investigations import create_app
from investigations.extensions import db
from investigations.models import User
from investigations.models.audit import GENESIS_HASH

PASSWORD = "correct horse battery staple"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DATABASE_URL:
        # The run drops and rebuilds the public schema: refuse anything not named as a test database.
        if "test" not in TEST_DATABASE_URL.rsplit("/", 1)[-1]:
            pytest.exit(f"TEST_DATABASE_URL must name a test database (its name must contain 'test'): "
                        f"{TEST_DATABASE_URL}", returncode=2)
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def password_hash():
    from investigations.auth.accounts import hash_password

    return hash_password(PASSWORD)


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a real server does.

    Tests hold an app context open to query the database; without this, requests would share
    its `g` (and so Flask-Login's cached user) and its database session.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # read and close file responses, as a browser would
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()  # the test's own session then sees what the request committed
        return response


def make_app(database_url, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "AUDIT_KEY": "test-audit-key-0123456789abcdef0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        "EVIDENCE_DIR": str(tmp_path / "evidence"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "EVIDENCE_EXTRACTION": "inline",
        "SEARCH_INDEXER": "inline",  # each test's own commits are searchable at once (no indexer process)
        "DOSSIER_RENDERING": "inline",
        "SERVER_NAME": "localhost",
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Build the schema once with the committed migrations."""
    app = make_app(database_url, tmp_path_factory.mktemp("schema"))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return database_url


def _empty_tables():
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
        conn.execute(text(f"INSERT INTO audit_chain_head (id, seq, last_hash) VALUES (1, 0, '{GENESIS_HASH}')"))


@pytest.fixture
def app_factory(_schema, tmp_path):
    """Build an app on the test database with extra settings, e.g. app_factory(WTF_CSRF_ENABLED=True)."""
    apps = []

    def factory(**overrides):
        app = make_app(_schema, tmp_path, **overrides)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        _empty_tables()
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def users(app, password_hash):
    """One account per role, plus a second reporter: rita, rob, eve (editor), ada (admin)."""
    people = {
        "rita": ("rita@example.org", "Rita Reporter", "reporter"),
        "rob": ("rob@example.org", "Rob Reporter", "reporter"),
        "eve": ("eve@example.org", "Eve Editor", "editor"),
        "ada": ("ada@example.org", "Ada Admin", "admin"),
    }
    made = {}
    for key, (address, name, role) in people.items():
        made[key] = User(email=address, display_name=name, role=role, password_hash=password_hash)
        db.session.add(made[key])
    db.session.commit()
    return made


def sign_in(client, email, password=PASSWORD, follow_redirects=False):
    return client.post("/login", data={"email": email, "password": password},
                       follow_redirects=follow_redirects)


@pytest.fixture
def login(app, users):
    """login("rita") -> a test client signed in as that user."""

    def _login(who):
        client = app.test_client()
        response = sign_in(client, users[who].email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login


def case_form(**overrides):
    data = {
        "title": "Refund refused for a faulty washing machine",
        "business_name": "Acme Appliances Inc.",
        "category": "refund",
        "narrative": "The machine leaked on first use and the store refused a refund.",
        "desired_resolution": "A full refund",
        "amount_in_dispute": "499.99",
        "currency": "USD",
        "incident_date": "2026-10-01",
        "date_received": date.today().isoformat(),
        "received_via": "email",
        "tags": "refund, washer",
        "complainant_name": "Carla Complainant",
        "complainant_email": "carla@example.net",
        "complainant_phone": "+1 555 0100",
        "complainant_address": "1 Main Street",
    }
    data.update(overrides)
    return data


def file_case(client, **overrides) -> str:
    """File a case through the form; return its reference."""
    response = client.post("/cases/new", data=case_form(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/cases/(C-\d{4}-\d{5})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


# --- A local SMTP server (aiosmtpd) for the tests of e-mail ------------------------------------


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address):
        return [message for rcpts, message in self.messages if address in rcpts]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def mail_app(app_factory, inbox, users):
    _, port = inbox
    app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, APP_URL="https://cases.example.org")
    with app.app_context():
        yield app
