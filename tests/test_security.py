"""Security headers on every kind of response, cookies in production, and templates the
Content-Security-Policy does not break (no inline script, event handler or style)."""
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from investigations.models import Evidence
from investigations.security import CONTENT_SECURITY_POLICY
from tests import evidence_files
from tests.conftest import PASSWORD, file_case, sign_in

REPO = Path(__file__).resolve().parent.parent

EXPECTED_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def assert_security_headers(response, csp=EXPECTED_CSP):
    headers = response.headers
    assert headers["Content-Security-Policy"] == csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert "camera=()" in headers["Permissions-Policy"] and "geolocation=()" in headers["Permissions-Policy"]


def test_the_policy_is_the_one_documented():
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY


def test_html_pages_have_the_headers(app, login):
    response = app.test_client().get("/login")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # development: plain http
    signed_in = login("rita").get("/cases/")
    assert_security_headers(signed_in)
    assert signed_in.headers["Cache-Control"] == "no-store"  # confidential pages stay out of caches


def test_json_responses_have_the_headers(app, login):
    health = app.test_client().get("/healthz")
    assert health.mimetype == "application/json"
    assert_security_headers(health)
    export = login("rita").get("/cases/export.json")
    assert export.mimetype == "application/json"
    assert_security_headers(export)


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_error_pages_have_the_headers(login, accept):
    client = login("rita")
    missing = client.get("/cases/C-2026-99999", headers={"Accept": accept})
    assert missing.status_code == 404
    assert_security_headers(missing)
    refused = client.get("/admin/users", headers={"Accept": accept})
    assert refused.status_code == 403
    assert_security_headers(refused)


def test_a_server_error_page_has_the_headers(app_factory, users):
    app = app_factory()

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    boom.access_level = "public"
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert_security_headers(response)


def test_a_rate_limited_answer_has_the_headers(app_factory, users):
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    sign_in(client, "rita@example.org", "guess")
    response = sign_in(client, "rita@example.org", "guess")
    assert response.status_code == 429
    assert_security_headers(response)


def test_static_files_have_the_headers_and_may_be_cached(app):
    response = app.test_client().get("/static/js/app.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"


def test_evidence_downloads_keep_their_sandbox(login):
    rita = login("rita")
    reference = file_case(rita)
    rita.post(f"/cases/{reference}/evidence", data={"files": [(io.BytesIO(evidence_files.jpeg()), "photo.jpg")]},
              content_type="multipart/form-data")
    from investigations.extensions import db

    evidence_id = db.session.scalar(select(Evidence.id))
    for url in (f"/evidence/{evidence_id}/download", f"/evidence/{evidence_id}/image/thumb"):
        response = rita.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "private, no-store"


def test_production_adds_hsts_and_secure_cookies(app_factory, users, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    app = app_factory()
    assert app.config["PRODUCTION"] and app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    client = app.test_client()
    response = client.post("/login", data={"email": "rita@example.org", "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookies = {value.split("=", 1)[0]: value for value in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        attributes = [part.strip().lower() for part in cookies[name].split(";")]
        assert "secure" in attributes and "httponly" in attributes and "samesite=lax" in attributes, cookies[name]


def test_development_cookies_are_not_secure_only(app, users):
    response = sign_in(app.test_client(), "rita@example.org")
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    attributes = [part.strip().lower() for part in session_cookie.split(";")]
    assert "secure" not in attributes and "httponly" in attributes and "samesite=lax" in attributes


# --- Nothing the policy would block ------------------------------------------------------------------

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def source_files():
    yield from sorted((REPO / "templates").rglob("*.html"))
    yield from sorted((REPO / "static" / "js").rglob("*.js"))


def test_templates_and_scripts_need_nothing_inline():
    found = []
    for path in source_files():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".js":  # scripts build elements; only markup strings could carry inline code
            text = "\n".join(re.findall(r"[`'\"][^`'\"]*<[a-z][^`'\"]*[`'\"]", text))
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(REPO)}:{line}: {what}")
    assert not found, "The Content-Security-Policy would block:\n" + "\n".join(found)


def test_python_rendered_markup_needs_nothing_inline():
    """Charts and snippets are built in Python: they use presentation attributes, not style=."""
    found = []
    for path in sorted((REPO / "investigations").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"""['"][^'"]*(\sstyle=|<script[\s>]|\son(click|load|error|mouseover)=)""", line):
                found.append(f"{path.relative_to(REPO)}:{number}")
    assert not found, found
