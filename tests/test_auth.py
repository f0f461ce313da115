"""Signing in and out, the first admin, rate limits and configuration defaults."""
import base64
import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import func, select

from investigations.auth import qr, totp
from investigations.config import Config
from investigations.extensions import db
from investigations.models import AuditEvent, User, utcnow
from investigations.models.users import LoginThrottle
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
    odd = sign_in(client, "nobody\x00@example.org", "not the password")  # PostgreSQL refuses NUL in text
    assert odd.status_code == 200 and message in odd.get_data(as_text=True)


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
        assert response.headers["Location"] == "/", target  # the start page: My work or the dashboard
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
    assert response.headers["Location"] == "/"
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


# --- The session at sign-in --------------------------------------------------------------------


def test_nothing_from_before_sign_in_is_carried_into_the_session(app, users):
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["csrf_token"] = "known to the attacker"
        session["_fresh"] = True
    before = client.get_cookie("session").value
    response = sign_in(client, "rita@example.org")
    assert response.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("csrf_token") != "known to the attacker"
        # The session's user id is a server-side session's token (auth/sessions.py), not the account's id.
        token = session["_user_id"]
    from investigations.auth.sessions import hash_token
    from investigations.models import UserSession

    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))
    assert row is not None and row.user_id == users["rita"].id and row.ended_at is None


def test_a_remember_me_cookie_stops_working_when_the_password_changes(app, login, users):
    laptop = app.test_client()
    laptop.post("/login", data={"email": "rita@example.org", "password": PASSWORD, "remember": "y"})
    laptop.delete_cookie("session", domain="localhost")  # the browser was closed: only the cookie is left
    assert laptop.get("/cases/").status_code == 200  # remembered
    laptop.delete_cookie("session", domain="localhost")
    phone = login("rita")
    phone.post("/account/password", data={"current_password": PASSWORD, "new_password": "a brand new passphrase",
                                          "confirm": "a brand new passphrase"})
    assert laptop.get("/cases/").status_code == 302


def test_an_admin_reset_ends_every_session_and_remember_me_cookie(app, login, users):
    laptop = app.test_client()
    laptop.post("/login", data={"email": "rob@example.org", "password": PASSWORD, "remember": "y"})
    phone = login("rob")
    login("ada").post(f"/admin/users/{users['rob'].id}/reset-password")
    assert phone.get("/cases/").status_code == 302
    laptop.delete_cookie("session", domain="localhost")
    assert laptop.get("/cases/").status_code == 302


# --- Lockout -------------------------------------------------------------------------------------

BAD = "That e-mail and password do not match an active account."
LOCKED = "Too many failed sign-ins for this e-mail address"


def answers(client, email, passwords):
    """The message each sign-in attempt got: 'bad', 'locked' or 'signed in'."""
    result = []
    for password in passwords:
        response = sign_in(client, email, password)
        page = response.get_data(as_text=True)
        if response.status_code == 302:
            result.append("signed in")
            client.post("/logout")
        elif LOCKED in page:
            result.append("locked")
        else:
            assert BAD in page, page
            result.append("bad")
    return result


def lockout_events():
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.lockout")).all()


def test_five_wrong_passwords_lock_the_account_for_a_while(app, users):
    client = app.test_client()
    got = answers(client, "rita@example.org", ["guess"] * 5 + [PASSWORD])
    assert got == ["bad"] * 4 + ["locked", "locked"]  # even the right password is refused, and not confirmed
    assert client.get("/cases/").status_code == 302
    rita = db.session.get(User, users["rita"].id)
    assert rita.locked_until > utcnow() + timedelta(minutes=14)
    [event] = lockout_events()
    assert (event.object_type, event.object_id, event.actor_label) == ("user", str(rita.id), "rita@example.org")
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert len(refused) == 6 and "locked out" in refused[-1].details
    assert answers(app.test_client(), "rob@example.org", [PASSWORD]) == ["signed in"]  # others are not affected

    rita.locked_until = utcnow() - timedelta(seconds=1)  # fifteen minutes later
    db.session.commit()
    assert answers(client, "rita@example.org", [PASSWORD]) == ["signed in"]
    rita = db.session.get(User, users["rita"].id)
    assert (rita.failed_logins, rita.locked_until) == (0, None)


def test_guesses_sent_all_at_once_are_decided_one_after_another(app, users):
    """Twelve wrong passwords at the same moment (as from several server processes): each is
    counted, so the fifth locks the account and the seven after it are refused unchecked."""
    guesses = ["guess"] * 12
    start = threading.Barrier(len(guesses))

    def attempt(password):
        client = app.test_client()
        client.get("/login")
        start.wait()
        return sign_in(client, "rita@example.org", password).status_code

    with ThreadPoolExecutor(len(guesses)) as pool:
        assert set(pool.map(attempt, guesses)) == {200}
    rita = db.session.get(User, users["rita"].id)
    db.session.refresh(rita)
    assert rita.locked_until is not None
    [event] = lockout_events()
    assert '"failures":5' in event.details
    refused = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "auth.login_failed")).all()
    assert len(refused) == 12 and sum("locked out" in details for details in refused) == 7


def test_an_unknown_address_gets_exactly_the_same_answers(app, users):
    sequence = ["guess"] * 5 + [PASSWORD, "guess"]
    known = answers(app.test_client(), "rita@example.org", sequence)
    unknown = answers(app.test_client(), "nobody@example.org", sequence)
    assert known == unknown == ["bad"] * 4 + ["locked"] * 3
    # The pages differ in nothing but the typed address.
    pages = [sign_in(app.test_client(), email, "guess").get_data(as_text=True).replace(email, "EMAIL")
             for email in ("rita@example.org", "nobody@example.org")]
    assert pages[0] == pages[1]
    assert [e.actor_label for e in lockout_events()] == ["rita@example.org", "nobody@example.org"]
    assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 1  # the address is not stored
    assert "nobody" not in db.session.scalar(select(LoginThrottle.key))


def test_a_successful_sign_in_resets_the_count(app, users):
    client = app.test_client()
    got = answers(client, "rita@example.org", ["guess"] * 4 + [PASSWORD] + ["guess"] * 4 + [PASSWORD])
    assert got == ["bad"] * 4 + ["signed in"] + ["bad"] * 4 + ["signed in"]
    assert lockout_events() == []


def test_failures_older_than_the_window_are_forgotten(app, users):
    client = app.test_client()
    assert answers(client, "rita@example.org", ["guess"] * 4) == ["bad"] * 4
    rita = db.session.get(User, users["rita"].id)
    rita.failed_logins_since -= timedelta(minutes=16)
    db.session.commit()
    assert answers(client, "rita@example.org", ["guess"] * 4 + [PASSWORD]) == ["bad"] * 4 + ["signed in"]


def test_the_lockout_is_configurable(app_factory, users):
    app = app_factory(LOGIN_LOCKOUT_ATTEMPTS=2, LOGIN_LOCKOUT_MINUTES=5)
    client = app.test_client()
    assert answers(client, "rita@example.org", ["guess", "guess"]) == ["bad", "locked"]
    assert "paused for 5 minutes" in sign_in(client, "rita@example.org").get_data(as_text=True)


def test_an_admin_unlocks_an_account_by_resetting_its_password(app, login, users):
    assert answers(app.test_client(), "rita@example.org", ["guess"] * 5) == ["bad"] * 4 + ["locked"]
    response = login("ada").post(f"/admin/users/{users['rita'].id}/reset-password")
    password = re.search(r'class="one-time-password"><code>([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert sign_in(app.test_client(), "rita@example.org", password).status_code == 302
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
    assert '"unlocked":true' in event.details


def test_wrong_current_passwords_count_towards_the_lockout(app, login, users):
    rita = login("rita")
    for _ in range(4):
        page = rita.post("/account/password", data={"current_password": "guess", "new_password": "long enough pass",
                                                    "confirm": "long enough pass"}).get_data(as_text=True)
        assert "The current password is not right." in page
    page = rita.post("/account/password", data={"current_password": "guess", "new_password": "long enough pass",
                                                "confirm": "long enough pass"}).get_data(as_text=True)
    assert "this is paused for 15 minutes" in page
    assert answers(app.test_client(), "rita@example.org", [PASSWORD]) == ["locked"]
    assert len(lockout_events()) == 1


# --- Two-factor sign-in --------------------------------------------------------------------------


def rfc_secret() -> str:
    return base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize("when,code", [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
                                       (1234567890, "89005924"), (2000000000, "69279037")])
def test_codes_match_the_rfc_6238_test_vectors(when, code):
    assert totp.code_at(rfc_secret(), totp.current_step(when), digits=8) == code
    assert totp.code_at(rfc_secret(), totp.current_step(when)) == code[-6:]


def test_codes_are_accepted_one_step_either_side_and_only_once():
    secret, now = rfc_secret(), 1_000_000_000
    step = totp.current_step(now)
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, totp.code_at(secret, step + offset), now=now) == step + offset
    for offset in (-2, 2):
        assert totp.matching_step(secret, totp.code_at(secret, step + offset), now=now) is None
    code = totp.code_at(secret, step)
    assert totp.matching_step(secret, code, last_step=step, now=now) is None  # used already
    assert totp.matching_step(secret, totp.code_at(secret, step + 1), last_step=step, now=now) == step + 1
    assert totp.matching_step(secret, totp.code_at(secret, step - 1), last_step=step, now=now) is None
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", now=now) == step  # as people type it
    for junk in ("", "12345", "1234567", "abcdef", None):
        assert totp.matching_step(secret, junk, now=now) is None


def test_the_setup_address_is_what_authenticator_apps_read():
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    uri = urlsplit(totp.provisioning_uri(secret, "rita@example.org"))
    assert (uri.scheme, uri.netloc, unquote(uri.path)) == ("otpauth", "totp", "/Investigations:rita@example.org")
    query = parse_qs(uri.query)
    assert query["secret"] == [secret] and query["issuer"] == ["Investigations"]
    assert query.get("digits", ["6"]) == ["6"] and query.get("period", ["30"]) == ["30"]
    assert len(totp.new_secret()) == 32 and totp.new_secret() != totp.new_secret()


def current_code(user: User, offset: int = 0) -> str:
    db.session.refresh(user)
    return totp.code_at(user.totp_secret, totp.current_step() + offset)


def enrol(client, user: User) -> None:
    assert client.post("/account/two-factor/start").status_code == 302
    response = client.post("/account/two-factor/confirm", data={"code": current_code(user)})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.has_two_factor


def test_enrolling_shows_the_secret_and_needs_a_right_code(login, users):
    rita, user = login("rita"), users["rita"]
    other_session = login("rita")
    page = rita.get("/account/two-factor").get_data(as_text=True)
    assert "Set up two-factor sign-in" in page
    rita.post("/account/two-factor/start")
    db.session.refresh(user)
    page = rita.get("/account/two-factor").get_data(as_text=True)
    assert totp.grouped(user.totp_secret) in page
    assert html.escape(totp.provisioning_uri(user.totp_secret, user.email)) in page
    assert not user.has_two_factor  # not until a code proves the app has the secret

    wrong = f"{(int(current_code(user)) + 1) % 1_000_000:06d}"
    page = rita.post("/account/two-factor/confirm", data={"code": wrong}).get_data(as_text=True)
    assert "That code does not match." in page
    db.session.refresh(user)
    assert not user.has_two_factor
    enrol_response = rita.post("/account/two-factor/confirm", data={"code": current_code(user)},
                               follow_redirects=True)
    assert "Two-factor sign-in is on" in enrol_response.get_data(as_text=True)
    assert rita.get("/cases/").status_code == 200  # this session goes on
    assert other_session.get("/cases/").status_code == 302  # the others end
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("auth.totp%"))
                                 .order_by(AuditEvent.seq)).all()
    assert actions == ["auth.totp_failed", "auth.totp_enable"]


def test_sign_in_asks_for_the_code_after_the_password(app, login, users):
    enrol(login("rita"), users["rita"])
    client = app.test_client()
    response = sign_in(client, "rita@example.org")
    assert response.headers["Location"] == "/login/code"
    assert client.get("/cases/").status_code == 302  # the password alone signs nobody in
    assert "Enter your code" in client.get("/login/code").get_data(as_text=True)

    page = client.post("/login/code", data={"code": "000000" if current_code(users["rita"]) != "000000" else "111111"})
    assert "That code is not right." in page.get_data(as_text=True)
    assert client.get("/cases/").status_code == 302
    code = current_code(users["rita"], offset=1)  # the enrolment used the current step's code
    response = client.post("/login/code", data={"code": code})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/cases/").status_code == 200

    replay = app.test_client()
    sign_in(replay, "rita@example.org")
    page = replay.post("/login/code", data={"code": code}).get_data(as_text=True)
    assert "That code is not right." in page  # a code works once
    assert replay.get("/cases/").status_code == 302
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ["auth.login", "auth.totp_failed"])).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events][-3:] == ["auth.totp_failed", "auth.login", "auth.totp_failed"]
    assert '"two_factor":true' in events[-2].details


def test_the_code_step_renews_the_session_and_follows_next(app, login, users):
    enrol(login("rita"), users["rita"])
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login?next=/businesses/", data={"email": "rita@example.org", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session and "_user_id" not in session
    response = client.post("/login/code", data={"code": current_code(users["rita"], offset=1)})
    assert response.headers["Location"] == "/businesses/"
    with client.session_transaction() as session:
        assert "pending_sign_in" not in session and "planted" not in session and "_user_id" in session


def test_the_code_step_expires(app, login, users):
    enrol(login("rita"), users["rita"])
    client = app.test_client()
    sign_in(client, "rita@example.org")
    with client.session_transaction() as session:
        session["pending_sign_in"] = {**session["pending_sign_in"], "at": session["pending_sign_in"]["at"] - 301}
    response = client.post("/login/code", data={"code": current_code(users["rita"], offset=1)})
    assert response.status_code == 200
    assert "Your sign-in has timed out" in response.get_data(as_text=True)
    assert client.get("/cases/").status_code == 302
    # Without a password step at all, the code page is only a way back to signing in.
    fresh = app.test_client()
    assert "Your sign-in has timed out" in fresh.get("/login/code").get_data(as_text=True)


def test_wrong_codes_count_towards_the_lockout(app, login, users):
    enrol(login("rita"), users["rita"])
    client = app.test_client()
    sign_in(client, "rita@example.org")
    right = current_code(users["rita"], offset=1)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert "That code is not right." in client.post("/login/code", data={"code": wrong}).get_data(as_text=True)
    response = client.post("/login/code", data={"code": wrong}, follow_redirects=True)
    assert LOCKED in response.get_data(as_text=True)
    assert answers(app.test_client(), "rita@example.org", [PASSWORD]) == ["locked"]
    assert len(lockout_events()) == 1


def test_turning_two_factor_off_needs_the_password_and_a_code(app, login, users):
    rita, user = login("rita"), users["rita"]
    enrol(rita, user)
    code = current_code(user, offset=1)
    page = rita.post("/account/two-factor/disable", data={"password": "guess", "code": code}).get_data(as_text=True)
    assert "The current password is not right." in page
    page = rita.post("/account/two-factor/disable", data={"password": PASSWORD, "code": "12"}).get_data(as_text=True)
    assert "That code is not right" in page
    db.session.refresh(user)
    assert user.has_two_factor
    response = rita.post("/account/two-factor/disable", data={"password": PASSWORD, "code": code})
    assert response.status_code == 302
    db.session.refresh(user)
    assert not user.has_two_factor and user.totp_secret is None
    assert sign_in(app.test_client(), "rita@example.org").headers["Location"] == "/"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("auth.%"))
                                 .order_by(AuditEvent.seq)).all()
    assert "auth.password_failed" in actions and actions.count("auth.totp_failed") == 1
    assert "auth.totp_disable" in actions


def test_an_admin_reset_turns_two_factor_off_for_a_lost_phone(app, login, users):
    enrol(login("rita"), users["rita"])
    response = login("ada").post(f"/admin/users/{users['rita'].id}/reset-password")
    password = re.search(r'class="one-time-password"><code>([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert sign_in(app.test_client(), "rita@example.org", password).headers["Location"] == "/account/password"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
    assert '"two_factor_removed":true' in event.details


def test_admins_can_be_required_to_use_two_factor(app_factory, users):
    app = app_factory(REQUIRE_TOTP_FOR_ADMINS=True)
    ada = app.test_client()
    sign_in(ada, "ada@example.org")
    for path in ("/admin/users", "/cases/", "/search?q=x"):
        response = ada.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor", path
    page = ada.get("/account/two-factor").get_data(as_text=True)
    assert "Admins of this newsroom sign in with a code as well as a password" in page
    rita = app.test_client()
    sign_in(rita, "rita@example.org")
    assert rita.get("/cases/").status_code == 200  # only admins

    enrol(ada, users["ada"])
    assert ada.get("/admin/users").status_code == 200
    page = ada.post("/account/two-factor/disable", data={"password": PASSWORD,
                                                         "code": current_code(users["ada"], offset=1)})
    assert "Admins must keep two-factor sign-in on" in page.get_data(as_text=True)
    db.session.refresh(users["ada"])
    assert users["ada"].has_two_factor


def test_an_admin_with_a_one_time_password_changes_it_before_enrolling(app_factory, runner, users):
    app = app_factory(REQUIRE_TOTP_FOR_ADMINS=True)
    result = app.test_cli_runner().invoke(args=["users", "create", "root@example.org", "--name", "Root",
                                                "--role", "admin", "--password-stdin"],
                                          input="a long enough password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "root@example.org"))
    user.must_change_password = True
    db.session.commit()
    client = app.test_client()
    assert sign_in(client, "root@example.org", "a long enough password").headers["Location"] == "/account/password"
    assert client.get("/admin/users").headers["Location"] == "/account/password"
    client.post("/account/password", data={"current_password": "a long enough password",
                                           "new_password": "another long password", "confirm": "another long password"})
    assert client.get("/admin/users").headers["Location"] == "/account/two-factor"


def test_the_qr_code_holds_the_whole_set_up_address():
    uri = totp.provisioning_uri(totp.new_secret(), "rita@example.org")
    code = qr.qr_code(uri)
    assert code.error == "M" and code.mode == "byte"
    # A version's byte capacity at level M (ISO/IEC 18004 table 7): the address fits, nothing is cut.
    assert len(uri.encode()) <= {5: 84, 6: 106, 7: 122, 8: 152, 9: 180, 10: 213}[code.version]


def test_the_set_up_page_shows_a_qr_code_the_csp_allows(login, users):
    rita = login("rita")
    rita.post("/account/two-factor/start")
    page = rita.get("/account/two-factor").get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and 'aria-label="QR code for an authenticator app"' in svg and "<path" in svg
    assert "style" not in svg and "<script" not in svg
