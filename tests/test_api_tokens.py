"""API tokens, tried as an attacker with a borrowed session would: making one needs the password
(and the code, with two-factor sign-in); tokens expire; a password change and two-factor
changes revoke them."""
import re
from datetime import timedelta

from sqlalchemy import func, select

from investigations.api.tokens import create_token
from investigations.auth import totp
from investigations.extensions import db
from investigations.models import ApiToken, AuditEvent, utcnow
from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def token_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ApiToken))


def api_get(app, secret, path="/api/v1/cases"):
    return app.test_client().get(path, headers={"Authorization": f"Bearer {secret}"})


def secret_on(page) -> str:
    return re.search(r"<code[^>]*>(inv_[\w-]{40,})</code>", page.get_data(as_text=True)).group(1)


def turn_on_two_factor(user) -> str:
    user.totp_secret = totp.new_secret()
    user.totp_enabled_at = utcnow()
    db.session.commit()
    return user.totp_secret


def code_now(secret, offset=0) -> str:
    return totp.code_at(secret, totp.current_step() + offset)


def test_a_wrong_or_missing_password_makes_no_token(login, users):
    rita = login("rita")
    for data in ({"name": "Stolen"}, {"name": "Stolen", "password": "a guess at it"}):
        response = rita.post("/account/tokens", data=data)
        assert response.status_code == 400
        assert "inv_" not in response.get_data(as_text=True)
    assert token_count() == 0
    assert "The current password is not right" in rita.post(
        "/account/tokens", data={"name": "x", "password": "wrong"}).get_data(as_text=True)
    failures = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.password_failed")).all()
    assert len(failures) == 2 and all("create API token" in e.details for e in failures)
    assert users["rita"].failed_logins == 2  # counted towards the lockout


def test_guessing_the_password_through_the_token_form_locks_it(login, users):
    rita = login("rita")
    for _ in range(5):
        rita.post("/account/tokens", data={"name": "x", "password": "guess"})
    response = rita.post("/account/tokens", data={"name": "x", "password": PASSWORD})
    assert response.status_code == 400 and "paused" in response.get_data(as_text=True)
    assert token_count() == 0


def test_with_two_factor_a_token_needs_the_current_code(login, users):
    rita = login("rita")  # a session (borrowed, say) of an account with two-factor sign-in
    secret = turn_on_two_factor(users["rita"])
    page = rita.get("/account/tokens").get_data(as_text=True)
    assert 'name="code"' in page
    for code in ("", "000000" if code_now(secret) != "000000" else "111111", "12345"):
        response = rita.post("/account/tokens", data={"name": "Stolen", "password": PASSWORD, "code": code})
        assert response.status_code == 400
    assert "That code is not right" in response.get_data(as_text=True)
    assert token_count() == 0
    # The right password with the right code works, once: the same code cannot make a second token.
    code = code_now(secret)
    made = rita.post("/account/tokens", data={"name": "Mine", "password": PASSWORD, "code": code})
    assert made.status_code == 200 and secret_on(made)
    again = rita.post("/account/tokens", data={"name": "Again", "password": PASSWORD, "code": code})
    assert again.status_code == 400
    assert token_count() == 1


def test_without_two_factor_the_code_field_is_not_asked(login):
    rita = login("rita")
    assert 'name="code"' not in rita.get("/account/tokens").get_data(as_text=True)
    made = rita.post("/account/tokens", data={"name": "Mine", "password": PASSWORD})
    assert made.status_code == 200


def test_tokens_expire_after_api_token_days_and_the_list_says_so(app, login, users):
    rita = login("rita")
    made = rita.post("/account/tokens", data={"name": "Nightly", "password": PASSWORD})
    secret = secret_on(made)
    token = db.session.scalar(select(ApiToken))
    assert abs(token.expires_at - token.created_at - timedelta(days=app.config["API_TOKEN_DAYS"])) < timedelta(seconds=1)
    assert api_get(app, secret).status_code == 200
    listing = rita.get("/account/tokens").get_data(as_text=True)
    assert "Expires" in listing and "Last used" in listing and "Created" in listing

    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = api_get(app, secret)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "expired" in response.json["detail"] and "/account/tokens" in response.json["detail"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    listing = rita.get("/account/tokens").get_data(as_text=True)
    assert "Expired" in listing and "Revoke</button>" not in listing


def test_the_lifetime_is_configurable_and_applies_to_command_line_tokens(app_factory, users):
    app = app_factory(API_TOKEN_DAYS=7)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["users", "token", "rita@example.org"])
        assert result.exit_code == 0, result.output
        token = db.session.scalar(select(ApiToken))
        assert abs(token.expires_at - token.created_at - timedelta(days=7)) < timedelta(seconds=1)


def test_a_password_change_revokes_the_tokens_and_says_so(app, login, users):
    _, secret = create_token(users["rita"], "script")
    db.session.commit()
    assert api_get(app, secret).status_code == 200
    rita = login("rita")
    response = rita.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                    "confirm": NEW_PASSWORD}, follow_redirects=True)
    assert "Your API token was revoked" in response.get_data(as_text=True)
    assert api_get(app, secret).status_code == 401
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_change"))
    assert '"tokens_revoked":1' in event.details.replace(" ", "")


def test_turning_two_factor_on_revokes_the_tokens_and_says_so(app, login, users):
    create_token(users["rita"], "one")
    _, secret = create_token(users["rita"], "two")
    db.session.commit()
    rita = login("rita")
    rita.post("/account/two-factor/start")
    db.session.expire_all()
    key = users["rita"].totp_secret
    response = rita.post("/account/two-factor/confirm", data={"code": code_now(key)}, follow_redirects=True)
    assert "Your 2 API tokens were revoked" in response.get_data(as_text=True)
    assert api_get(app, secret).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) == 0


def test_turning_two_factor_off_revokes_the_tokens_and_says_so(app, login, users):
    rita = login("rita")
    key = turn_on_two_factor(users["rita"])
    _, secret = create_token(users["rita"], "script")
    db.session.commit()
    response = rita.post("/account/two-factor/disable", data={"password": PASSWORD, "code": code_now(key)},
                         follow_redirects=True)
    assert "Your API token was revoked" in response.get_data(as_text=True)
    assert api_get(app, secret).status_code == 401


def test_another_accounts_changes_leave_my_tokens_alone(app, login, users):
    _, secret = create_token(users["rob"], "rob's script")
    db.session.commit()
    login("rita").post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD})
    assert api_get(app, secret).status_code == 200
