"""Server-side sessions, tried as an attacker would: cookies copied before sign-out, idle and
absolute time limits, forged X-Forwarded-For headers; and the production-start rules."""
import os
import re
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from investigations.auth.accounts import PASSWORD_ALPHABET, generate_password
from investigations.extensions import db
from investigations.models import AuditEvent, UserSession, utcnow
from tests.conftest import PASSWORD, sign_in

REPO = Path(__file__).resolve().parent.parent
NEW_PASSWORD = "a brand new passphrase"


def signed_in(client) -> bool:
    response = client.get("/cases/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def copy_of(client, *names, environ_base=None):
    """A second browser holding copies of `client`'s cookies (what a thief would have)."""
    thief = client.application.test_client()
    if environ_base:
        thief.environ_base.update(environ_base)
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value, domain="localhost")
    return thief


def the_session(user) -> UserSession:
    db.session.expire_all()
    return db.session.scalar(select(UserSession).where(UserSession.user_id == user.id)
                             .order_by(UserSession.id.desc()))


def test_a_session_cookie_copied_before_sign_out_is_refused_after_it(app, users):
    browser = app.test_client()
    sign_in(browser, "rita@example.org")
    thief = copy_of(browser, "session")
    assert signed_in(thief)  # the copy works while the session lives
    assert browser.post("/logout").status_code == 302
    assert not signed_in(thief)
    assert not signed_in(browser)
    row = the_session(users["rita"])
    assert row.ended_at is not None
    # The cookies hold the token; the database only its hash.
    assert db.session.scalar(select(UserSession.token_hash)) == row.token_hash and len(row.token_hash) == 64


def test_a_remember_me_cookie_copied_before_sign_out_is_refused_after_it(app, users):
    browser = app.test_client()
    browser.post("/login", data={"email": "rita@example.org", "password": PASSWORD, "remember": "y"})
    thief = copy_of(browser, "remember_token")  # no session cookie: only the year-long one
    assert signed_in(thief) and signed_in(thief)  # it signs in, and stays signed in
    assert browser.post("/logout").status_code == 302
    fresh_thief = copy_of(thief, "remember_token")
    assert not signed_in(fresh_thief)
    assert not signed_in(copy_of(thief, "session"))


def test_the_remember_me_cookie_lasts_as_long_as_a_session_may(app, users):
    browser = app.test_client()
    browser.post("/login", data={"email": "rita@example.org", "password": PASSWORD, "remember": "y"})
    cookie = browser.get_cookie("remember_token")
    lasts = cookie.expires.replace(tzinfo=None) - utcnow()
    lifetime = timedelta(hours=app.config["SESSION_LIFETIME_HOURS"])
    assert lifetime - timedelta(minutes=5) < lasts <= lifetime
    assert app.config["REMEMBER_COOKIE_DURATION"] == lifetime


def test_a_session_idle_for_too_long_ends(app, users):
    browser = app.test_client()
    browser.post("/login", data={"email": "rita@example.org", "password": PASSWORD, "remember": "y"})
    assert signed_in(browser)
    row = the_session(users["rita"])
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=30)
    db.session.commit()
    assert not signed_in(browser)
    assert not signed_in(copy_of(browser, "remember_token"))  # the remember-me cookie idles out too


def test_a_session_ends_at_its_absolute_lifetime_however_busy(app, users):
    browser = app.test_client()
    browser.post("/login", data={"email": "rita@example.org", "password": PASSWORD, "remember": "y"})
    row = the_session(users["rita"])
    row.created_at = utcnow() - timedelta(hours=app.config["SESSION_LIFETIME_HOURS"], minutes=1)
    row.last_seen_at = utcnow()  # used a moment ago
    db.session.commit()
    assert not signed_in(browser)
    assert not signed_in(copy_of(browser, "remember_token"))


def test_the_time_limits_are_configurable(app_factory, users):
    app = app_factory(SESSION_IDLE_MINUTES=5)
    browser = app.test_client()
    with app.app_context():
        sign_in(browser, "rita@example.org")
        row = db.session.scalar(select(UserSession))
        row.last_seen_at = utcnow() - timedelta(minutes=6)
        db.session.commit()
    assert not signed_in(browser)


def test_last_seen_is_written_at_most_once_a_minute(app, users):
    browser = app.test_client()
    sign_in(browser, "rita@example.org")
    row = the_session(users["rita"])
    first = row.last_seen_at
    assert signed_in(browser) and signed_in(browser)
    assert the_session(users["rita"]).last_seen_at == first
    row = the_session(users["rita"])
    row.last_seen_at = first - timedelta(minutes=2)
    db.session.commit()
    assert signed_in(browser)
    assert the_session(users["rita"]).last_seen_at > first - timedelta(seconds=1)


def test_a_forged_x_forwarded_for_changes_neither_the_address_nor_session_protection(app, users):
    browser = app.test_client()
    browser.post("/login", data={"email": "rita@example.org", "password": PASSWORD},
                 headers={"X-Forwarded-For": "203.0.113.9"})
    row = the_session(users["rita"])
    assert row.ip_address == "127.0.0.1"
    login = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert login.ip == "127.0.0.1"
    # The same browser sending another (or no) X-Forwarded-For is the same client.
    assert browser.get("/cases/", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert signed_in(browser)
    # A thief elsewhere cannot pass for the victim by sending the victim's address in the header.
    thief = copy_of(browser, "session", environ_base={"REMOTE_ADDR": "192.0.2.66"})
    assert thief.get("/cases/", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 302


def test_behind_a_configured_proxy_the_proxys_hop_is_trusted_and_no_more(app_factory, users):
    app = app_factory(PROXY_FIX_X_FOR=1)
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
    with app.app_context():
        response = browser.post("/login", data={"email": "rita@example.org", "password": PASSWORD},
                                headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.7"})
        assert response.status_code == 302
        assert db.session.scalar(select(UserSession.ip_address)) == "198.51.100.7"  # not what the client wrote


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, login, users):
    laptop = app.test_client()
    laptop.post("/login", data={"email": "rita@example.org", "password": PASSWORD, "remember": "y"})
    phone = login("rita")
    response = phone.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_in(phone)
    assert not signed_in(laptop)
    assert not signed_in(copy_of(laptop, "remember_token"))
    live = db.session.scalars(select(UserSession).where(UserSession.ended_at.is_(None))).all()
    assert len(live) == 1


def test_the_account_page_lists_sessions_and_signs_out_the_others(app, login, users):
    laptop = app.test_client()
    laptop.post("/login", data={"email": "rita@example.org", "password": PASSWORD},
                headers={"User-Agent": "Laptop Browser/1.0"})
    phone = app.test_client()
    phone.post("/login", data={"email": "rita@example.org", "password": PASSWORD},
               headers={"User-Agent": "Phone Browser/2.0"})
    page = phone.get("/account/password", headers={"User-Agent": "Phone Browser/2.0"}).get_data(as_text=True)
    assert "Laptop Browser/1.0" in page and "Phone Browser/2.0" in page and "This session" in page
    assert "Sign out other sessions" in page
    rob = login("rob")
    assert "Laptop Browser" not in rob.get("/account/password").get_data(as_text=True)
    response = phone.post("/account/sessions/end-others", headers={"User-Agent": "Phone Browser/2.0"},
                          follow_redirects=True)
    assert "Signed out 1 other session" in response.get_data(as_text=True)
    assert laptop.get("/cases/", headers={"User-Agent": "Laptop Browser/1.0"}).status_code == 302
    assert phone.get("/cases/", headers={"User-Agent": "Phone Browser/2.0"}).status_code == 200
    assert signed_in(rob)


def test_a_deactivated_account_is_signed_out_at_once(app, users):
    browser = app.test_client()
    sign_in(browser, "rita@example.org")
    users["rita"].active = False
    db.session.commit()
    assert not signed_in(browser)


def test_a_made_up_or_old_style_user_id_signs_nobody_in(app, users):
    browser = app.test_client()
    browser.get("/login")
    for forged in (f"{users['ada'].id}:0", "x" * 500, ""):
        with browser.session_transaction() as session:
            session["_user_id"] = forged
        assert not signed_in(browser)


# --- One-time passwords ------------------------------------------------------------------------


def test_one_time_passwords_have_no_look_alike_characters():
    assert not set("O0oIl1i") & set(PASSWORD_ALPHABET)
    seen = set()
    for _ in range(300):
        password = generate_password()
        assert re.fullmatch(rf"[{PASSWORD_ALPHABET}]{{5}}(-[{PASSWORD_ALPHABET}]{{5}}){{3}}", password), password
        seen.add(password)
    assert len(seen) == 300


def test_the_issued_password_page_has_a_copy_button_the_csp_allows(app, login, users):
    page = login("ada").post(f"/admin/users/{users['rob'].id}/reset-password").get_data(as_text=True)
    assert 'data-copy="one-time-password"' in page and 'id="one-time-password"' in page
    assert 'src="/static/js/copy.js"' in page
    assert (REPO / "static/js/copy.js").exists()


# --- Starting in production -------------------------------------------------------------------


def bare_env(**extra):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **extra}


@pytest.mark.parametrize("env", [{}, {"APP_ENV": "production"}, {"SECRET_KEY": "s3cret-" * 6},
                                 {"APP_ENV": "production", "SECRET_KEY": "  "}])
def test_make_serve_refuses_to_start_without_production_settings(env):
    result = subprocess.run(["make", "--no-print-directory", "serve"], cwd=REPO, env=bare_env(**env),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    if not env.get("SECRET_KEY", "").strip():
        assert "SECRET_KEY" in result.stderr
    if env.get("APP_ENV") != "production":
        assert "APP_ENV=production" in result.stderr
    assert "gunicorn" not in result.stdout and "db upgrade" not in result.stdout  # nothing was started


def test_the_production_check_passes_with_both_settings():
    result = subprocess.run(["make", "--no-print-directory", "production-settings"], cwd=REPO,
                            env=bare_env(APP_ENV="production", SECRET_KEY="s3cret-" * 6),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_gunicorn_in_production_refuses_a_missing_secret_key():
    result = subprocess.run([sys.executable, "-c", "import runpy; runpy.run_path('gunicorn.conf.py')"], cwd=REPO,
                            env=bare_env(APP_ENV="production"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("flask_debug, debug", [(None, False), ("0", False), ("1", True)])
def test_python_app_py_runs_without_the_debugger_unless_asked(monkeypatch, tmp_path, flask_debug, debug):
    from flask import Flask

    calls = []
    monkeypatch.setattr(Flask, "run", lambda self, **kwargs: calls.append(kwargs))
    for name, value in {"SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
                        "EVIDENCE_DIR": str(tmp_path / "evidence"), "DOSSIER_DIR": str(tmp_path / "dossiers"),
                        "SEARCH_INDEX_DIR": str(tmp_path / "index"), "APP_ENV": "development"}.items():
        monkeypatch.setenv(name, value)
    if flask_debug is None:
        monkeypatch.delenv("FLASK_DEBUG", raising=False)
    else:
        monkeypatch.setenv("FLASK_DEBUG", flask_debug)
    runpy.run_path(str(REPO / "app.py"), run_name="__main__")
    assert calls == [{"host": "127.0.0.1", "port": 5000, "debug": debug}]
