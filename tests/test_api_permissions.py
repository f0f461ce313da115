"""The API's permission decisions, in permissions.py with the web's: every API route but the
OpenAPI document and the reference page takes a bearer token, which enforce_route_access checks
before anything else is read. Walked here with no token, a session cookie only, a revoked token,
an expired token, a deactivated account's token, and valid tokens of a reporter and an editor."""
import io
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from investigations.api.tokens import create_token, hash_token
from investigations.extensions import db
from investigations.models import ApiToken, Evidence, utcnow
from investigations.permissions import API_EDITOR, API_TOKEN, PUBLIC, api_token, route_access_level
from tests import evidence_files
from tests.test_api import PROBLEM, Api, file_via_api

PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "api_reference.docs"}


def api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")]


def token_of(users, who):
    _, secret = create_token(users[who], f"{who}'s permission token")
    db.session.commit()
    return secret


@pytest.fixture
def robs_case(app, users):
    """Rob's case with an evidence file and a dossier: real objects behind every address."""
    rob = Api(app, token_of(users, "rob"))
    reference = file_via_api(rob, business_name="Robs Only Business Ltd", title="Rob's private case")
    rob.post(f"/cases/{reference}/evidence", content_type="multipart/form-data",
             data={"files": [(io.BytesIO(evidence_files.jpeg()), "photo.jpg")]})
    dossier_id = rob.post(f"/cases/{reference}/dossier", json={"audience": "internal"}).headers["X-Dossier-Id"]
    return {"reference": reference, "evidence_id": db.session.scalar(select(Evidence.id)),
            "dossier_id": int(dossier_id), "slug": rob.get(f"/cases/{reference}").json["business"]["slug"]}


def every_request(app, things):
    """(method, path) of every API operation, on Rob's things."""
    for rule in api_rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: things[name] for name in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url.removeprefix("http://localhost"), rule


def test_no_api_view_is_public_but_the_document_and_the_reference_page(app):
    levels = {rule.endpoint: route_access_level(rule.endpoint) for rule in api_rules(app)}
    assert {endpoint for endpoint, level in levels.items() if level == PUBLIC} == PUBLIC_ENDPOINTS
    assert set(levels.values()) == {PUBLIC, API_TOKEN, API_EDITOR}
    assert levels["api_businesses.update_business_view"] == API_EDITOR
    assert levels["api_cases.assign_case_view"] == API_EDITOR
    # Both public pages answer without a token.
    client = app.test_client()
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def assert_refused_without_a_secret(response, method, path, secret_texts=("Rob's private case", "Robs Only")):
    assert response.status_code == 401, f"{method} {path}: {response.status_code}"
    assert response.mimetype == PROBLEM, f"{method} {path}"
    assert "Bearer" in response.headers["WWW-Authenticate"]
    text = response.get_data(as_text=True)
    assert not any(secret in text for secret in secret_texts), f"{method} {path} revealed data"


def test_every_api_route_refuses_a_request_without_a_token(app, login, robs_case):
    anonymous, with_session = app.test_client(), login("eve")  # an editor's session cookie is not enough
    for method, path, _ in every_request(app, robs_case):
        for client in (anonymous, with_session):
            assert_refused_without_a_secret(client.open(path, method=method, json={}), method, path)


def test_every_api_route_refuses_a_revoked_an_expired_or_a_deactivated_accounts_token(app, users, robs_case):
    revoked, expired, deactivated = token_of(users, "eve"), token_of(users, "ada"), token_of(users, "rob")
    for secret, change in ((revoked, "revoked_at"), (expired, "expires_at")):
        token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
        setattr(token, change, utcnow() - timedelta(minutes=1))
    users["rob"].active = False
    db.session.commit()
    for method, path, _ in every_request(app, robs_case):
        for secret in (revoked, expired, deactivated, "inv_" + "x" * 43):
            response = app.test_client().open(path, method=method, json={},
                                              headers={"Authorization": f"Bearer {secret}"})
            assert_refused_without_a_secret(response, method, path)


def test_a_missing_case_and_a_hidden_one_look_the_same_without_a_token(app, robs_case):
    client = app.test_client()
    hidden = client.get(f"/api/v1/cases/{robs_case['reference']}")
    missing = client.get("/api/v1/cases/C-2026-99999")
    assert hidden.status_code == missing.status_code == 401
    assert hidden.get_data() == missing.get_data()


@pytest.mark.parametrize("who", ["rob", "rita", "eve"])
def test_a_valid_token_gets_past_the_gate_and_the_object_rules_decide(app, users, robs_case, who):
    """Rob (his case) and Eve (an editor) get through; Rita is refused Rob's things (404) and the
    editors' operations (403), never with a 401 or a server error."""
    client = Api(app, token_of(users, who))
    for method, path, rule in every_request(app, robs_case):
        response = client.open(method, path.removeprefix("/api/v1"), json={})
        assert response.status_code not in (401, 500), f"{method} {path} as {who}: {response.status_code}"
        level = route_access_level(rule.endpoint)
        if level == API_EDITOR and who != "eve":
            assert response.status_code == 403, f"{method} {path} as {who}"
            assert "Only editors and admins" in response.json["detail"]
        elif who == "rita" and rule.arguments & {"reference", "evidence_id", "dossier_id"}:
            assert response.status_code == 404, f"{method} {path} as {who}"
        else:
            assert response.status_code not in (403, 404), f"{method} {path} as {who}: {response.status_code}"


def test_a_token_level_is_checked_by_enforce_route_access_wherever_the_view_is(app_factory, users):
    """The decision is permissions.py's, not the API blueprint's: a view declared @api_token on
    any blueprint still needs a token (fail closed)."""
    app = app_factory()

    @app.route("/elsewhere")
    @api_token
    def elsewhere():
        return "secret"

    secret = token_of(users, "rita")
    client = app.test_client()
    client.post("/login", data={"email": "eve@example.org", "password": "correct horse battery staple"})
    refused = client.get("/elsewhere")
    assert refused.status_code == 401 and b"secret" not in refused.data
    assert app.test_client().get("/elsewhere", headers={"Authorization": f"Bearer {secret}"}).data == b"secret"
