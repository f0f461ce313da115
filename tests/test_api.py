"""The JSON API under /api/v1: bearer tokens, the same permissions as the web, problem+json
errors, and an OpenAPI document that lists every route."""
import io
import json
import re
from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from investigations.api.tokens import create_token, hash_token
from investigations.extensions import db
from investigations.models import ApiToken, AuditEvent, Case, Dossier, Evidence
from investigations.permissions import API_EDITOR, PUBLIC, route_access_level
from tests import evidence_files
from tests.conftest import PASSWORD, TEST_DATABASE_URL

PROBLEM = "application/problem+json"
BACKENDS = ["postgres"] if TEST_DATABASE_URL else ["tantivy", "whoosh"]


class Api:
    """A test client that sends one account's bearer token with every request."""

    def __init__(self, app, secret):
        self.client = app.test_client()
        self.secret = secret

    def open(self, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {self.secret}", **kwargs.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def put(self, path, **kwargs):
        return self.open("PUT", path, **kwargs)


@pytest.fixture
def api(app, users):
    """api("rita") -> a client with a fresh token of Rita's."""

    def make(who):
        _, secret = create_token(users[who], f"{who}'s test token")
        db.session.commit()
        return Api(app, secret)

    return make


def new_case(**overrides):
    data = {
        "title": "Blender warranty refused by the Zanzibar store",
        "business_name": "Zanzibar Kitchenware Ltd",
        "category": "warranty",
        "narrative": "The blender stopped after two weeks and the store refused a warranty repair.",
        "amount_in_dispute": "89.90",
        "currency": "USD",
        "date_received": date.today().isoformat(),
        "received_via": "email",
        "tags": ["warranty", "blender"],
        "complainant_name": "Carla Complainant",
        "complainant_email": "carla@example.net",
        "complainant_phone": "+1 555 0100",
        "complainant_address": "1 Main Street",
    }
    data.update(overrides)
    return data


def file_via_api(client, **overrides) -> str:
    response = client.post("/cases", json=new_case(**overrides))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["reference"]


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json if response.is_json else json.loads(response.get_data(as_text=True))
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def problem_body(response):
    return json.loads(response.get_data(as_text=True))


# --- The journey -------------------------------------------------------------------------------


@pytest.mark.parametrize("search_backend", BACKENDS)
def test_a_token_client_files_a_case_uploads_evidence_searches_and_exports_a_dossier(app, api, search_backend):
    app.config["SEARCH_BACKEND"] = search_backend
    app.extensions.pop("search_backend", None)
    rita = api("rita")

    created = rita.post("/cases", json=new_case())
    assert created.status_code == 201, created.get_data(as_text=True)
    case = created.json
    reference = case["reference"]
    assert re.fullmatch(r"C-\d{4}-\d{5}", reference)
    assert created.headers["Location"].endswith(f"/api/v1/cases/{reference}")
    assert case["status"] == "new" and case["business"]["name"] == "Zanzibar Kitchenware Ltd"
    assert case["tags"] == ["blender", "warranty"] and case["amount_in_dispute"] == "89.90"
    assert case["assigned_to"]["display_name"] == "Rita Reporter"
    assert "complainant" not in case and "Carla" not in created.get_data(as_text=True)

    photo = evidence_files.jpeg()
    uploaded = rita.post(f"/cases/{reference}/evidence", content_type="multipart/form-data", data={
        "files": [(io.BytesIO(photo), "receipt.jpg"), (io.BytesIO(b"Call notes: the manager refused.\n"), "notes.txt")],
        "caption": "From the complainant", "source": "E-mail of 3 March"})
    assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
    added = uploaded.json["added"]
    assert [item["media_type"] for item in added] == ["image/jpeg", "text/plain"]
    assert added[0]["caption"] == "From the complainant" and added[0]["source"] == "E-mail of 3 March"
    assert uploaded.json["refused"] == []

    listed = rita.get(f"/cases/{reference}/evidence")
    assert [item["id"] for item in listed.json["items"]] == [item["id"] for item in added]

    download = rita.get(f"/evidence/{added[0]['id']}/download")
    assert download.status_code == 200
    assert download.data == photo
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert download.headers["Content-Disposition"].startswith("attachment")

    found = rita.get("/search", query_string={"q": "zanzibar"})
    assert found.status_code == 200, found.get_data(as_text=True)
    assert [hit["reference"] for hit in found.json["hits"]] == [reference]
    assert found.json["total"] == 1 and found.headers["X-Total-Count"] == "1"
    assert any("<mark>" in snippet["html"].lower() for snippet in found.json["hits"][0]["snippets"])

    dossier = rita.post(f"/cases/{reference}/dossier", json={"audience": "bbb"})
    assert dossier.status_code == 201, dossier.get_data(as_text=True)[:500]
    assert dossier.mimetype == "application/pdf"
    assert dossier.data.startswith(b"%PDF")
    again = rita.get(f"/dossiers/{dossier.headers['X-Dossier-Id']}")
    assert again.data == dossier.data and again.headers["Cache-Control"] == "private, no-store"
    default = rita.post(f"/cases/{reference}/dossier")  # no body: the BBB / regulator dossier
    assert default.status_code == 201 and default.headers["Content-Disposition"].endswith("-bbb-dossier-2.pdf")

    timeline = rita.get(f"/cases/{reference}/timeline").json["items"]
    kinds = [entry["kind"] for entry in timeline]  # newest first; uploads may add "evidence" entries
    assert kinds[:2] == ["dossier", "dossier"] and kinds[-1] == "created"
    assert set(kinds) <= {"dossier", "evidence", "created"}
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"case.create", "evidence.upload", "evidence.download", "dossier.export"} <= actions
    assert db.session.scalar(select(AuditEvent.actor_label).where(AuditEvent.action == "case.create")) == \
        "rita@example.org"


def test_reading_changing_moving_and_noting_a_case(api):
    rita = api("rita")
    reference = file_via_api(rita)

    changed = rita.patch(f"/cases/{reference}", json={"title": "Blender repair refused", "tags": ["repair"],
                                                      "desired_resolution": None})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.json["title"] == "Blender repair refused" and changed.json["tags"] == ["repair"]
    assert changed.json["desired_resolution"] is None
    assert changed.json["narrative"].startswith("The blender")  # untouched fields keep their values
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.update"))
    assert json.loads(update.details)["fields"] == ["title", "tags"]

    note = rita.post(f"/cases/{reference}/timeline", json={"kind": "call", "body": "Called the store manager.",
                                                           "internal": False})
    assert note.status_code == 201 and note.json["kind"] == "call" and note.json["internal"] is False

    moved = rita.post(f"/cases/{reference}/status", json={"status": "investigating", "comment": "Starting"})
    assert moved.status_code == 200 and moved.json["status"] == "investigating"
    assert "awaiting_response" in moved.json["allowed_moves"] and "published" not in moved.json["allowed_moves"]
    asked = rita.post(f"/cases/{reference}/status", json={"status": "awaiting_response"})
    assert asked.json["response_due_on"] == (date.today() + timedelta(days=30)).isoformat()
    answered = rita.post(f"/cases/{reference}/response", json={"response": "We will repair it."})
    assert answered.status_code == 200 and answered.json["business_response"] == "We will repair it."

    listed = rita.get("/cases", query_string={"status": "awaiting_response"})
    assert [item["reference"] for item in listed.json["items"]] == [reference]


def test_complainant_details_only_on_request_and_audited(api):
    rita = api("rita")
    reference = file_via_api(rita)
    plain = rita.get(f"/cases/{reference}")
    assert "complainant" not in plain.json and "carla@example.net" not in plain.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.complainant_view")) is None

    shown = rita.get(f"/cases/{reference}", query_string={"include": "complainant"})
    assert shown.json["complainant"] == {"name": "Carla Complainant", "email": "carla@example.net",
                                         "phone": "+1 555 0100", "address": "1 Main Street"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.complainant_view"))
    assert event.object_id == reference and event.actor_label == "rita@example.org"
    assert json.loads(event.details) == {"purpose": "api"}


def test_lists_are_paginated_with_a_total(api):
    rita = api("rita")
    references = [file_via_api(rita, title=f"Case number {n}") for n in range(3)]
    first = rita.get("/cases", query_string={"per_page": 2})
    assert first.headers["X-Total-Count"] == "3"
    assert first.json["total"] == 3 and first.json["pages"] == 2 and len(first.json["items"]) == 2
    second = rita.get("/cases", query_string={"per_page": 2, "page": 2})
    assert {item["reference"] for item in first.json["items"] + second.json["items"]} == set(references)
    assert rita.get("/cases", query_string={"page": 9}).json["items"] == []
    assert_problem(rita.get("/cases", query_string={"per_page": 101}), 422)


def test_businesses_are_listed_read_and_changed_by_editors(api):
    rita, eve = api("rita"), api("eve")
    reference = file_via_api(rita)
    listed = rita.get("/businesses", query_string={"q": "zanzibar"})
    assert [b["name"] for b in listed.json["items"]] == ["Zanzibar Kitchenware Ltd"]
    assert listed.json["items"][0]["case_count"] == 1
    slug = listed.json["items"][0]["slug"]
    detail = rita.get(f"/businesses/{slug}")
    assert [c["reference"] for c in detail.json["cases"]] == [reference] and detail.json["counts"]["total"] == 1

    assert_problem(rita.patch(f"/businesses/{slug}", json={"city": "Springfield"}), 403)
    changed = eve.patch(f"/businesses/{slug}", json={"city": "Springfield", "aliases": ["Zanzibar Kitchens"]})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.json["city"] == "Springfield" and changed.json["aliases"] == ["Zanzibar Kitchens"]
    file_via_api(rita, business_name="Other Shop")
    other = rita.get("/businesses", query_string={"q": "other shop"}).json["items"][0]["slug"]
    clash = assert_problem(eve.patch(f"/businesses/{other}", json={"aliases": ["Zanzibar Kitchens"]}), 409)
    assert "Zanzibar Kitchenware Ltd" in clash["errors"]["aliases"][0]


# --- Tokens --------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic cml0YTpwdw==", "Bearer inv_not-a-real-token",
                                    "Bearer x" * 300, "bearer"])
def test_without_a_valid_token_every_api_route_answers_401(app, users, header):
    client = app.test_client()
    headers = {"Authorization": header} if header else {}
    for path, method in [("/api/v1/cases", "GET"), ("/api/v1/cases", "POST"), ("/api/v1/search?q=x", "GET"),
                         ("/api/v1/evidence/1/download", "GET"), ("/api/v1/cases/C-2026-00001/dossier", "POST")]:
        response = client.open(path, method=method, headers=headers, json={})
        body = assert_problem(response, 401)
        assert "Bearer" in response.headers["WWW-Authenticate"]
        assert "Authorization" in body["detail"] or "not valid" in body["detail"]


def test_a_revoked_token_or_a_deactivated_account_is_refused(api, users):
    rita = api("rita")
    assert rita.get("/cases").status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(rita.secret)))
    token.revoked_at = token.created_at
    db.session.commit()
    assert_problem(rita.get("/cases"), 401)

    rob = api("rob")
    users["rob"].active = False
    db.session.commit()
    assert_problem(rob.get("/cases"), 401)


def test_an_admin_password_reset_revokes_the_accounts_tokens(api, login, users):
    rita = api("rita")
    assert rita.get("/cases").status_code == 200
    response = login("ada").post(f"/admin/users/{users['rita'].id}/reset-password")
    assert response.status_code in (200, 302)
    assert_problem(rita.get("/cases"), 401)


def test_a_session_cookie_is_not_enough(login):
    rita = login("rita")
    assert rita.get("/cases/").status_code == 200
    assert_problem(rita.get("/api/v1/cases"), 401)


def test_tokens_are_stored_hashed_and_last_use_is_recorded_once_a_minute(api):
    rita = api("rita")
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hash_token(rita.secret) and rita.secret not in (token.token_hash, token.prefix)
    assert rita.secret.startswith(token.prefix) and token.last_used_at is None
    rita.get("/cases")
    db.session.expire_all()
    first_use = db.session.scalar(select(ApiToken)).last_used_at
    assert first_use is not None
    rita.get("/cases")
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken)).last_used_at == first_use


def test_the_tokens_page_creates_shows_once_and_revokes(app, login, users):
    rita = login("rita")
    page = rita.post("/account/tokens", data={"name": "Newsletter script", "password": PASSWORD})
    assert page.status_code == 200
    secret = re.search(r"<code[^>]*>(inv_[\w-]{40,})</code>", page.get_data(as_text=True)).group(1)
    assert page.headers["Cache-Control"] == "no-store"
    listing = rita.get("/account/tokens").get_data(as_text=True)
    assert "Newsletter script" in listing and secret[:12] in listing and secret not in listing

    client = Api(app, secret)
    assert client.get("/cases").status_code == 200
    token = db.session.scalar(select(ApiToken))
    assert token.user_id == users["rita"].id

    rob = login("rob")
    assert rob.post("/account/tokens/revoke", data={"token_id": token.id}).status_code == 404
    assert client.get("/cases").status_code == 200
    revoked = rita.post("/account/tokens/revoke", data={"token_id": token.id})
    assert revoked.status_code == 302
    assert_problem(client.get("/cases"), 401)
    assert "Revoked" in rita.get("/account/tokens").get_data(as_text=True)
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("api_token.%"))
                                     .order_by(AuditEvent.seq)))
    assert [(e.action, e.actor_label) for e in events] == [("api_token.create", "rita@example.org"),
                                                           ("api_token.revoke", "rita@example.org")]
    assert secret not in "".join(e.details for e in events)


def csrf_token(page) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_the_tokens_page_needs_a_csrf_token_but_the_api_does_not(app_factory, users):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    signed_in = client.post("/login", data={"email": "rita@example.org", "password": PASSWORD,
                                            "csrf_token": csrf_token(client.get("/login"))})
    assert signed_in.status_code == 302
    assert client.post("/account/tokens", data={"name": "Forged", "password": PASSWORD}).status_code == 400
    page = client.post("/account/tokens", data={"name": "Mine", "password": PASSWORD,
                                                "csrf_token": csrf_token(client.get("/account/tokens"))})
    assert page.status_code == 200
    secret = re.search(r"<code[^>]*>(inv_[\w-]{40,})</code>", page.get_data(as_text=True)).group(1)
    with app.app_context():
        assert [token.name for token in db.session.scalars(select(ApiToken))] == ["Mine"]
        token_id = db.session.scalar(select(ApiToken.id))
    assert client.post("/account/tokens/revoke", data={"token_id": token_id}).status_code == 400

    api_client = Api(app, secret)  # no CSRF token, no cookie: the bearer token is the credential
    created = api_client.post("/cases", json=new_case())
    assert created.status_code == 201, created.get_data(as_text=True)
    reference = created.json["reference"]
    assert api_client.post(f"/cases/{reference}/status", json={"status": "investigating"}).status_code == 200


def test_flask_users_token_prints_a_working_token_once(app, runner, users):
    result = runner.invoke(args=["users", "token", "Rita@Example.org", "--name", "Nightly export"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert re.fullmatch(r"inv_[\w-]{43}", secret)
    assert "shown only now" in result.stderr
    assert Api(app, secret).get("/cases").status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.create"))
    assert event.actor_label == "command line"
    missing = runner.invoke(args=["users", "token", "nobody@example.org"])
    assert missing.exit_code != 0 and "no account" in missing.output


# --- Permissions ---------------------------------------------------------------------------------


def test_a_reporter_cannot_reach_another_reporters_case(api, login):
    rob, rita = api("rob"), api("rita")
    reference = file_via_api(rob, title="Rob's private Quixotic case")
    rob.post(f"/cases/{reference}/evidence", content_type="multipart/form-data",
             data={"files": [(io.BytesIO(evidence_files.jpeg()), "photo.jpg")]})
    evidence_id = db.session.scalar(select(Evidence.id))
    dossier_id = rob.post(f"/cases/{reference}/dossier", json={"audience": "internal"}).headers["X-Dossier-Id"]

    for method, path, kwargs in [
        ("GET", f"/cases/{reference}", {}),
        ("GET", f"/cases/{reference}?include=complainant", {}),
        ("PATCH", f"/cases/{reference}", {"json": {"title": "Mine now"}}),
        ("POST", f"/cases/{reference}/status", {"json": {"status": "investigating"}}),
        ("GET", f"/cases/{reference}/timeline", {}),
        ("POST", f"/cases/{reference}/timeline", {"json": {"body": "hello"}}),
        ("POST", f"/cases/{reference}/response", {"json": {"response": "hello"}}),
        ("GET", f"/cases/{reference}/evidence", {}),
        ("POST", f"/cases/{reference}/evidence", {"data": {"files": [(io.BytesIO(b"hi"), "a.txt")]},
                                                  "content_type": "multipart/form-data"}),
        ("GET", f"/evidence/{evidence_id}", {}),
        ("GET", f"/evidence/{evidence_id}/download", {}),
        ("POST", f"/cases/{reference}/dossier", {"json": {}}),
        ("GET", f"/dossiers/{dossier_id}", {}),
    ]:
        response = rita.open(method, path, **kwargs)
        assert_problem(response, 404)
        assert "Quixotic" not in response.get_data(as_text=True)

    assert rita.get("/cases").json["items"] == []
    assert rita.get("/search", query_string={"q": "Quixotic"}).json["total"] == 0
    assert rita.get("/businesses").json["items"][0]["case_count"] == 0
    assert db.session.scalar(select(Case.title)) == "Rob's private Quixotic case"  # nothing changed
    assert api("eve").get(f"/cases/{reference}").status_code == 200


def test_editor_only_moves_and_assignment_are_403_for_reporters(api, users):
    rita, eve = api("rita"), api("eve")
    reference = file_via_api(rita)
    body = assert_problem(rita.post(f"/cases/{reference}/status", json={"status": "closed"}), 403)
    assert "Only editors" in body["detail"]
    assert_problem(rita.put(f"/cases/{reference}/assignee", json={"assignee_id": users["rob"].id}), 403)

    assigned = eve.put(f"/cases/{reference}/assignee", json={"assignee_id": users["rob"].id})
    assert assigned.status_code == 200 and assigned.json["assigned_to"]["id"] == users["rob"].id
    assert_problem(eve.put(f"/cases/{reference}/assignee", json={"assignee_id": users["ada"].id}), 409)
    assert api("rob").get(f"/cases/{reference}").status_code == 200

    eve.post(f"/cases/{reference}/status", json={"status": "investigating"})
    published = eve.post(f"/cases/{reference}/status", json={"status": "published"})
    assert published.json["status"] == "published"
    assert_problem(rita.patch(f"/cases/{reference}", json={"title": "Changed later"}), 403)
    assert_problem(rita.post(f"/cases/{reference}/timeline", json={"body": "Too late"}), 403)


def test_no_dossier_is_issued_when_an_evidence_file_is_missing(api):
    from investigations.evidence.services import store

    rita = api("rita")
    reference = file_via_api(rita)
    rita.post(f"/cases/{reference}/evidence", content_type="multipart/form-data",
              data={"files": [(io.BytesIO(evidence_files.jpeg()), "photo.jpg")]})
    sha256 = db.session.scalar(select(Evidence.sha256))
    store().path_for(sha256).unlink()
    store().derived_path(sha256, "print").unlink()  # the copy a dossier prints
    body = assert_problem(rita.post(f"/cases/{reference}/dossier", json={"audience": "internal"}), 409)
    assert "flask evidence verify" in body["detail"]
    assert db.session.scalar(select(Dossier).where(Dossier.state == "ready")) is None
    assert_problem(rita.get(f"/evidence/{db.session.scalar(select(Evidence.id))}/download"), 404)


def test_an_impossible_move_is_409_and_changes_nothing(api):
    rita = api("rita")
    reference = file_via_api(rita)
    body = assert_problem(rita.post(f"/cases/{reference}/status", json={"status": "resolved"}), 409)
    assert "cannot move" in body["detail"]
    assert rita.get(f"/cases/{reference}").json["status"] == "new"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.status")) is None


# --- Errors --------------------------------------------------------------------------------------


def test_invalid_input_is_422_with_the_messages_of_each_field(api):
    rita = api("rita")
    body = assert_problem(rita.post("/cases", json=new_case(
        title="", category="gardening", complainant_email="not an e-mail", date_received="2999-01-01",
        amount_in_dispute="-5", complainant_phone="call me", tags=["a,b"], colour="red")), 422)
    errors = body["errors"]
    assert set(errors) == {"title", "category", "complainant_email", "date_received", "amount_in_dispute",
                           "complainant_phone", "tags", "colour"}
    assert errors["date_received"] == ["This date is in the future."]
    assert errors["colour"] == ["Unknown field."]
    missing = assert_problem(rita.post("/cases", json={}), 422)["errors"]
    assert {"title", "business_name", "category", "narrative", "complainant_name"} <= set(missing)
    assert_problem(rita.post("/cases", data="{not json", content_type="application/json"), 400)
    assert rita.get("/cases").json["total"] == 0


def test_unknown_addresses_and_methods_are_problems_too(api):
    rita = api("rita")
    assert_problem(rita.get("/nothing-here"), 404)
    assert_problem(rita.get("/cases/C-2026-99999"), 404)
    assert_problem(rita.get("/cases/not-a-reference"), 404)
    assert_problem(rita.get("/businesses/no-such-business"), 404)
    response = rita.open("DELETE", "/cases")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_refused_and_oversized_uploads(app_factory, users):
    app = app_factory(MAX_UPLOAD_MB=1)
    with app.app_context():
        _, secret = create_token(db.session.get(type(users["rita"]), users["rita"].id), "uploads")
        db.session.commit()
    rita = Api(app, secret)
    reference = file_via_api(rita)
    refused = rita.post(f"/cases/{reference}/evidence", content_type="multipart/form-data",
                        data={"files": [(io.BytesIO(b"<html><script>alert(1)</script></html>"), "page.html")]})
    assert refused.status_code == 200, refused.get_data(as_text=True)  # processed; nothing was added
    assert refused.json["added"] == [] and refused.json["refused"][0]["name"] == "page.html"
    mixed = rita.post(f"/cases/{reference}/evidence", content_type="multipart/form-data", data={
        "files": [(io.BytesIO(b"<html></html>"), "page.html"), (io.BytesIO(evidence_files.png()), "ok.png")]})
    assert mixed.status_code == 201
    assert [item["original_name"] for item in mixed.json["added"]] == ["ok.png"]
    assert mixed.json["refused"][0]["name"] == "page.html"
    too_big = rita.post(f"/cases/{reference}/evidence", content_type="multipart/form-data",
                        data={"files": [(io.BytesIO(b"a" * (2 * 2**20)), "big.txt")]})
    assert "at most 1 MB" in assert_problem(too_big, 413)["detail"]
    too_big.request.environ["wsgi.input"].close()  # the test client's body file, which the app left unread
    assert_problem(rita.post(f"/cases/{reference}/evidence", data={"caption": "no file"}), 422)
    assert_problem(rita.post(f"/cases/{reference}/evidence", json={"files": "x"}), 422)
    with app.app_context():
        assert db.session.scalar(select(Evidence.original_name)) == "ok.png"


ODD_INPUTS = [
    ("GET", "/cases", {"query_string": {"page": "99999999999999999999"}}),
    ("GET", "/cases", {"query_string": {"page": "-1", "per_page": "0"}}),
    ("GET", "/cases", {"query_string": {"status": "\x00", "business": "\x00" * 5, "assignee": "9" * 30}}),
    ("GET", "/cases", {"query_string": {"overdue": "maybe", "category": "x" * 5000}}),
    ("GET", "/cases/%00", {}),
    ("GET", "/cases/C-2026-00001%00", {}),
    ("GET", "/cases/" + "C" * 5000, {}),
    ("GET", "/evidence/99999999999999999999", {}),
    ("GET", "/dossiers/0", {}),
    ("GET", "/businesses/%00", {}),
    ("GET", "/businesses", {"query_string": {"q": "\x00%_*", "page": "1e9"}}),
    ("GET", "/search", {"query_string": {"q": '"unbalanced AND OR ( NOT'}}),
    ("GET", "/search", {"query_string": {"q": "\x00" + "x" * 20000}}),
    ("GET", "/search", {"query_string": {"from": "2026-13-45", "year": "abc", "business": "-3", "sort": "sideways"}}),
    ("GET", "/search", {"query_string": {"region": "\x00", "page": "501"}}),
    ("POST", "/cases", {"json": []}),
    ("POST", "/cases", {"json": "a string"}),
    ("POST", "/cases", {"json": None}),
    ("POST", "/cases", {"data": b"\xff\xfe", "content_type": "application/json"}),
    ("POST", "/cases", {"json": {"title": {"nested": 1}, "tags": "not-a-list", "amount_in_dispute": "1e1000000"}}),
    ("POST", "/cases", {"json": {"amount_in_dispute": "NaN", "date_received": "yesterday"}}),
    ("POST", "/cases", {"json": {"title": "x\x00" * 3, "business_name": "\x00", "narrative": 5}}),
    ("POST", "/cases", {"data": {"title": "form encoded"}}),
]


@pytest.mark.parametrize("method,path,kwargs", ODD_INPUTS)
def test_no_input_makes_a_server_error(api, method, path, kwargs):
    response = api("rita").open(method, path, **kwargs)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        assert_problem(response, response.status_code)


def test_odd_input_on_an_existing_case(api):
    rita = api("rita")
    reference = file_via_api(rita)
    for method, path, kwargs in [
        ("PATCH", f"/cases/{reference}", {"json": {"title": None, "currency": None}}),
        ("PATCH", f"/cases/{reference}", {"json": {"business_name": "!!!"}}),
        ("PATCH", f"/cases/{reference}", {"json": {"narrative": "\x00" * 20}}),
        ("POST", f"/cases/{reference}/status", {"json": {"status": "flying"}}),
        ("POST", f"/cases/{reference}/timeline", {"json": {"kind": "status", "body": "forged"}}),
        ("POST", f"/cases/{reference}/timeline", {"json": {"body": "x", "occurred_at": "9999-99-99T00:00"}}),
        ("POST", f"/cases/{reference}/response", {"json": {"response": "x", "received_on": "3000-01-01"}}),
        ("POST", f"/cases/{reference}/dossier", {"json": {"audience": "everyone"}}),
        ("GET", f"/cases/{reference}", {"query_string": {"include": "everything"}}),
    ]:
        response = rita.open(method, path, **kwargs)
        assert_problem(response, 422)
    note = rita.post(f"/cases/{reference}/timeline", json={"body": "On time", "occurred_at": "2026-01-05T10:00:00+02:00"})
    assert note.json["occurred_at"] == "2026-01-05T08:00:00Z"
    assert rita.get(f"/cases/{reference}").json["title"] == new_case()["title"]


def test_web_pages_keep_their_html_errors(app, login):
    response = login("rita").get("/cases/C-2026-99999")
    assert response.status_code == 404 and response.mimetype == "text/html"
    api = app.extensions["investigations_api"]  # flask-smorest's JSON handler is not installed app-wide
    app_handlers = [handler for handlers in app.error_handler_spec[None].values() for handler in handlers.values()]
    assert all(getattr(handler, "__self__", None) is not api for handler in app_handlers)


# --- The OpenAPI document and the reference page -------------------------------------------------


def openapi_document(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def test_the_openapi_document_is_valid_and_public(app):
    validator = pytest.importorskip("openapi_spec_validator")
    document = openapi_document(app)
    validator.validate(document)
    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] == "Investigations API" and document["info"]["version"] == "v1"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearerAuth"][
            "description"]}
    assert document["security"] == [{"bearerAuth": []}]


def test_the_openapi_document_lists_every_api_route(app):
    document = openapi_document(app)
    documented = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        if rule.endpoint in ("api-docs.openapi_json", "api_reference.docs"):
            assert route_access_level(rule.endpoint) == PUBLIC
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routed |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["summary"], f"{method} {path} has no summary"
            assert "401" in operation["responses"], f"{method} {path} does not document 401"
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) or status == "default":
                    if "$ref" in response:
                        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
                    assert list(response["content"]) == ["application/problem+json"], f"{method} {path} {status}"


def test_the_reference_page_shows_every_operation(app):
    document = openapi_document(app)
    page = app.test_client().get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                assert f"{method.upper()}</span> <code>{path}</code>" in html
                assert operation["summary"].replace("'", "&#39;") in html
    assert "complainant_email" in html and "application/problem+json" in html
    assert "<script" not in html.split("</head>")[1]


def test_every_api_route_declares_a_token_level_and_only_the_document_and_reference_are_public(app):
    """The API's permission decisions live where the web's do (permissions.py): every API view is
    API_TOKEN or API_EDITOR, which enforce_route_access answers with the bearer-token gate."""
    from investigations.permissions import API_EDITOR, API_TOKEN

    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        level = route_access_level(rule.endpoint)
        if rule.endpoint in ("api-docs.openapi_json", "api_reference.docs"):
            assert level == PUBLIC, rule.rule
        else:
            assert level in (API_TOKEN, API_EDITOR), f"{rule.rule}: {level}"


def test_an_api_view_cannot_be_declared_public():
    from investigations.api.auth import ApiBlueprint
    from investigations.permissions import public, signed_in

    blp = ApiBlueprint("api_mistake", __name__, tag="Mistakes", description="")
    for declaration in (public, signed_in):
        with pytest.raises(RuntimeError, match="never a web access level"):
            @blp.route("/mistake")
            @declaration
            def mistake():
                return {}


# --- Every API route, as every role --------------------------------------------------------------

# Arguments naming something of Rob's case: another reporter gets 404, as on the web.
CASE_OBJECT_ARGUMENTS = {"reference", "evidence_id", "dossier_id"}
PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "api_reference.docs"}


@pytest.fixture
def robs_things(api):
    rob = api("rob")
    reference = file_via_api(rob, business_name="Robs Only Business Ltd", title="Rob's private case")
    rob.post(f"/cases/{reference}/evidence", content_type="multipart/form-data",
             data={"files": [(io.BytesIO(evidence_files.jpeg()), "photo.jpg")]})
    dossier_id = rob.post(f"/cases/{reference}/dossier", json={"audience": "internal"}).headers["X-Dossier-Id"]
    slug = rob.get(f"/cases/{reference}").json["business"]["slug"]
    return {"reference": reference, "evidence_id": db.session.scalar(select(Evidence.id)),
            "dossier_id": int(dossier_id), "slug": slug}


def expected_outcome(level, role, arguments):
    if role == "anonymous":
        return "unauthenticated"
    if level == API_EDITOR and role == "rita":
        return "refused"
    if role == "rita" and arguments & CASE_OBJECT_ARGUMENTS:
        return "refused"
    return "allowed"


def outcome_of(response):
    if response.status_code == 401:
        return "unauthenticated"
    if response.status_code in (403, 404):
        return "refused"
    if response.status_code >= 500:
        return "error"
    return "allowed"  # 2xx, or 4xx about the (empty) input: past every permission check


@pytest.mark.parametrize("role", ["anonymous", "rita", "eve", "ada"])
def test_every_api_route_for_every_role(app, api, login, robs_things, role):
    """Tokens of each role (and, for "anonymous", no token but Rita's session cookie)."""
    from investigations.api.auth import api_level

    client = login("rita") if role == "anonymous" else api(role)
    mismatches = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        level = api_level(app.view_functions[rule.endpoint])
        with app.test_request_context():
            url = url_for(rule.endpoint, **{argument: robs_things[argument] for argument in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if role == "anonymous":
                response = client.open(url, method=method, json={})
            else:
                response = client.open(method, url.removeprefix("http://localhost").removeprefix("/api/v1"), json={})
            want, got = expected_outcome(level, role, rule.arguments), outcome_of(response)
            if want != got:
                mismatches.append(f"{method} {url} as {role}: expected {want}, got {got} ({response.status_code})")
            if response.status_code >= 400:
                assert response.mimetype == PROBLEM, f"{method} {url}"
    assert not mismatches, "\n".join(mismatches)
