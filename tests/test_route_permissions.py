"""Every route, as every role: a route without a permission decision fails this suite.

Object routes are tried on a case and a business that belong to Rob, so Rita (another
reporter) must be refused what is Rob's, while editors and admins get through.
"""
import io

import pytest
from flask import url_for
from sqlalchemy import select

from investigations.businesses.services import find_business
from investigations.extensions import db
from investigations.models import Dossier, Evidence, SavedSearch, Story
from investigations.permissions import ACCESS_LEVELS, ADMIN, EDITOR, PUBLIC, route_access_level
from tests import evidence_files
from tests.conftest import file_case
from tests.reply_letters import send_test_letter
from tests.test_intake import public_submission

ROLES = ["anonymous", "rita", "eve", "ada"]
# Arguments naming something of Rob's case: a reporter who is not on the case gets 404.
CASE_OBJECT_ARGUMENTS = {"reference", "evidence_id", "dossier_id", "letter_id"}
# Arguments naming something personal to Rob (a saved search): nobody else reaches it.
PERSONAL_ARGUMENTS = {"saved_id"}


def all_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_every_route_declares_an_access_level(app):
    undeclared = [rule.rule for rule in all_rules(app) if route_access_level(rule.endpoint) not in ACCESS_LEVELS]
    assert not undeclared, f"Routes without a permission decision: {undeclared}"


def test_a_route_without_a_decision_is_refused(app_factory, users):
    app = app_factory()

    @app.route("/forgot-to-decide")
    def forgot_to_decide():
        return "secret"

    client = app.test_client()
    client.post("/login", data={"email": "ada@example.org", "password": "correct horse battery staple"})
    response = client.get("/forgot-to-decide")
    assert response.status_code == 403
    assert b"secret" not in response.data


@pytest.fixture
def robs_things(login, users):
    """A case filed by Rob and a business only he has a case against."""
    rob = login("rob")
    reference = file_case(rob, business_name="Robs Only Business Ltd", title="Rob's private case")
    rob.post(f"/cases/{reference}/evidence", data={"files": [(io.BytesIO(evidence_files.jpeg()), "photo.jpg")]},
             content_type="multipart/form-data")
    rob.post(f"/cases/{reference}/dossier", data={"audience": "internal"})
    rob.post("/search/saved", data={"q": "private", "name": "Rob's search"})
    rob.post(f"/cases/{reference}/status", data={"status": "investigating"})
    rob.post(f"/cases/{reference}/stories", data={"story-outlet": "Daily Bugle", "story-headline": "Rob's story",
                                               "story-published_on": "2026-01-05", "story-format": "article"})
    letter_id, reply_token = send_test_letter(reference, users["rob"])  # /reply/<token> is public: a real link
    submission = public_submission(db.session.scalar(select(Evidence)))  # the triage queue's routes: editors only
    return {"letter_id": letter_id, "token": reply_token,
            "submission_id": submission.id, "file_id": submission.files[0].id,
            "reference": reference, "slug": find_business("Robs Only Business").slug, "user_id": users["rob"].id,
            "evidence_id": db.session.scalar(select(Evidence.id)), "variant": "thumb", "fmt": "csv", "part": "caption",
            "dossier_id": db.session.scalar(select(Dossier.id)), "saved_id": db.session.scalar(select(SavedSearch.id)),
            "story_id": db.session.scalar(select(Story.id))}


# Every route anyone may open without signing in. A new public route must be added here on purpose,
# and must reach nothing of the archive but what it was made for.
PUBLIC_ENDPOINTS = {
    "intake.report", "intake.receipt", "intake.status", "intake.add",  # the complaint form and its status page
}


def test_the_public_routes_are_the_intended_ones(app):
    public_routes = {rule.endpoint for rule in all_rules(app) if route_access_level(rule.endpoint) == PUBLIC}
    intake = {endpoint for endpoint in public_routes if endpoint.startswith("intake.")}
    assert intake == PUBLIC_ENDPOINTS


def test_no_public_intake_route_shows_staff_data(app, robs_things):
    """Signed out, with a real case, evidence and submission in the database: the public pages name none of it."""
    app.config["PUBLIC_INTAKE"] = True
    client = app.test_client()
    secrets = [robs_things["reference"], "Robs Only Business", "Rob's private case", "Carla Complainant",
               "carla@example.net", "Public Petra", "S-0000"]
    pages = [client.get("/report"), client.get("/report/receipt"), client.get("/report/status"),
             client.post("/report/status", data={"code": "AAAA-AAAA-AAAA"}),
             client.post("/report/status/add", data={"code": "AAAA-AAAA-AAAA", "note": "x"})]
    for response in pages:
        assert response.status_code < 500
        page = response.get_data(as_text=True)
        assert not [secret for secret in secrets if secret in page], response.request.path


def build_url(rule, things):
    return url_for(rule.endpoint, **{argument: things[argument] for argument in rule.arguments})


def expected(level, role, arguments):
    """'login' (sent to sign in), 'refused' (403/404) or 'allowed'."""
    if level == PUBLIC:
        return "allowed"
    if role == "anonymous":
        return "login"
    if level == ADMIN and role != "ada":
        return "refused"
    if level == EDITOR and role == "rita":
        return "refused"
    if role == "rita" and arguments & CASE_OBJECT_ARGUMENTS:
        return "refused"  # Rob's case
    if arguments & PERSONAL_ARGUMENTS:
        return "refused"
    return "allowed"


def outcome(response):
    if response.status_code == 302 and "/login" in response.headers["Location"]:
        return "login"
    if response.status_code in (403, 404):
        return "refused"
    if response.status_code >= 500:
        return "error"
    return "allowed"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(app, login, robs_things, role):
    client = app.test_client() if role == "anonymous" else login(role)
    mismatches = []
    for rule in all_rules(app):
        if rule.rule.startswith("/api/v1/") and rule.endpoint not in ("api-docs.openapi_json", "api_reference.docs"):
            continue  # token-authenticated: tests/test_api.py::test_every_api_route_for_every_role
        level = route_access_level(rule.endpoint)
        url = build_url(rule, robs_things)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "auth.logout":
                continue  # signing out would end this client's session for the routes after it
            response = client.open(url, method=method, data={})
            want, got = expected(level, role, rule.arguments), outcome(response)
            if want != got:
                mismatches.append(f"{method} {url} as {role}: expected {want}, got {got} ({response.status_code})")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("role,status", [("anonymous", 302), ("rita", 302)])
def test_sign_out_needs_a_session(app, login, role, status):
    client = app.test_client() if role == "anonymous" else login(role)
    response = client.post("/logout")
    assert response.status_code == status
    assert "/login" in response.headers["Location"]
