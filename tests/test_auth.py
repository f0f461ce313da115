"""Signing in and out, the first admin, rate limits and configuration defaults."""
import re

import pytest

from investigations.config import Config
from investigations.extensions import db
from investigations.models import User
from tests.conftest import PASSWORD, sign_in


def test_sign_in_and_out(app, users):
    client = app.test_client()
    assert client.get("/cases/").headers["Location"].startswith("/login?next=")
    response = sign_in(client, "Rita@Example.org ", follow_redirects=True)  # e-mail is case-insensitive
    assert "Rita Reporter" in response.get_data(as_text=True)
    assert client.get("/cases/").status_code == 200
    assert client.get("/logout").status_code == 405  # signing out is a POST (with CSRF)
    response = client.post("/logout", follow_redirects=True)
    assert "You are signed out." in response.get_data(as_text=True)
    assert client.get("/cases/").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(app, users):
    client = app.test_client()
    wrong = sign_in(client, "rita@example.org", "not the password").get_data(as_text=True)
    unknown = sign_in(client, "nobody@example.org", "not the password").get_data(as_text=True)
    message = "That e-mail and password do not match an active account."
    assert message in wrong and message in unknown
    assert client.get("/cases/").status_code == 302


def test_a_deactivated_account_cannot_sign_in(app, users):
    users["rob"].active = False
    db.session.commit()
    response = sign_in(app.test_client(), "rob@example.org")
    assert response.status_code == 200
    assert "do not match an active account" in response.get_data(as_text=True)


def test_next_only_leads_to_this_site(app, users):
    client = app.test_client()
    response = client.post("/login?next=/businesses/", data={"email": "rita@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/businesses/"
    client.post("/logout")
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post(f"/login?next={target}", data={"email": "rita@example.org", "password": PASSWORD})
        assert response.headers["Location"] == "/cases/", target
        client.post("/logout")


def test_the_session_is_renewed_at_sign_in(app, users):
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, "rita@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_failed_sign_ins_are_rate_limited(app_factory, users):
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert sign_in(client, "rita@example.org", "guess").status_code == 200
    response = sign_in(client, "rita@example.org", PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_the_first_admin_is_created_once_and_must_change_the_password(app, runner):
    result = runner.invoke(args=["users", "ensure-admin"])
    assert result.exit_code == 0
    password = re.search(r"password: (\S+)", result.output).group(1)
    assert "admin@example.org" in result.output
    again = runner.invoke(args=["users", "ensure-admin"])
    assert again.output == ""  # never printed twice, never a second admin
    assert db.session.query(User).count() == 1

    client = app.test_client()
    response = sign_in(client, "admin@example.org", password)
    assert response.headers["Location"] == "/account/password"
    assert client.get("/admin/users").headers["Location"] == "/account/password"
    response = client.post("/account/password", data={
        "current_password": password, "new_password": "a much better passphrase", "confirm": "a much better passphrase"})
    assert response.headers["Location"] == "/cases/"
    assert client.get("/admin/users").status_code == 200


def test_password_change_validation(login):
    client = login("rita")
    page = client.post("/account/password", data={
        "current_password": "wrong", "new_password": "long enough password", "confirm": "long enough password",
    }).get_data(as_text=True)
    assert "The current password is not right." in page
    page = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "short", "confirm": "short"}).get_data(as_text=True)
    assert "Field must be between 12 and 1024 characters long." in page
    page = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "long enough password", "confirm": "different one!!"
    }).get_data(as_text=True)
    assert "The two new passwords differ." in page


def test_cli_create_user_can_sign_in(app, runner):
    result = runner.invoke(args=["users", "create", "reporter@example.org", "--name", "Rita Reporter",
                                 "--role", "reporter", "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert sign_in(app.test_client(), "reporter@example.org", "a long enough password").status_code == 302


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = Config(tmp_path).SECRET_KEY
    assert len(first) >= 64 and Config(tmp_path).SECRET_KEY == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_mode_sets_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    config = Config(tmp_path)
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE and config.SESSION_COOKIE_HTTPONLY
    monkeypatch.setenv("APP_ENV", "development")
    assert not Config(tmp_path).SESSION_COOKIE_SECURE


def test_database_url_defaults_to_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert Config(tmp_path).SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path / 'investigations.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert Config(tmp_path).SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@h/db"


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_rate_limits_can_be_shared_through_redis(app_factory, users):
    import uuid

    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute",
                      RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
                      RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}")
    client = app.test_client()
    assert sign_in(client, "rita@example.org", "guess").status_code == 200
    assert sign_in(client, "rita@example.org", "guess").status_code == 200
    assert sign_in(client, "rita@example.org", PASSWORD).status_code == 429
