"""Error pages: in the app's layout (or JSON for API clients), never a traceback, nothing half-saved."""
import logging
import re

from sqlalchemy import func, select

from investigations.extensions import db
from investigations.models import Case
from investigations.permissions import public
from tests.conftest import PASSWORD, case_form, sign_in

NAV_BRAND = '<a href="/" class="brand"><strong>Investigations</strong></a>'


def case_count() -> int:
    return db.session.scalar(select(func.count(Case.id)))


def csrf_token(response) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def test_unknown_address_gives_the_not_found_page(app):
    response = app.test_client().get("/no/such/page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert NAV_BRAND in page
    assert "<h1>Not found</h1>" in page


def test_unknown_address_answers_json_to_json_clients(app):
    response = app.test_client().get("/no/such/page", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["status"] == 404
    assert response.get_json()["title"] == "Not found"


def test_a_form_sent_without_its_security_token_is_refused(app_factory, users):
    csrf_app = app_factory(WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": "rita@example.org", "password": PASSWORD,
                                           "csrf_token": csrf_token(client.get("/login"))})
    assert response.status_code == 302

    response = client.post("/cases/new", data=case_form())

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert NAV_BRAND in page
    assert "sent without a valid security token, so nothing was saved" in page
    assert case_count() == 0

    # The same form with its token goes through: the refusal was about the token alone.
    response = client.post("/cases/new", data=case_form(csrf_token=csrf_token(client.get("/cases/new"))))
    assert response.status_code == 302
    assert case_count() == 1


def test_a_request_over_the_size_limit_gets_the_too_large_page(app_factory, users):
    small_app = app_factory(MAX_CONTENT_LENGTH=1024)
    client = small_app.test_client()
    assert sign_in(client, "rita@example.org").status_code == 302

    response = client.post("/cases/new", data=case_form(narrative="A very long story. " * 200))

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert NAV_BRAND in page
    assert "<h1>File too large</h1>" in page
    assert f"at most {small_app.config['MAX_UPLOAD_MB']} MB" in page
    assert case_count() == 0


def test_an_unexpected_error_gives_the_friendly_page_not_a_traceback(app_factory, caplog):
    broken_app = app_factory()

    @broken_app.route("/broken")
    @public
    def broken():
        raise RuntimeError("internal detail nobody should see")

    with caplog.at_level(logging.ERROR):
        response = broken_app.test_client().get("/broken")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert NAV_BRAND in page
    assert "<h1>Something went wrong</h1>" in page
    assert "Traceback" not in page and "internal detail nobody should see" not in page
    assert "Unhandled error on GET /broken" in caplog.text
    assert "internal detail nobody should see" in caplog.text  # the log keeps what the page hides
