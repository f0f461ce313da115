"""Property-based fuzzing of the JSON API from its own OpenAPI document, with schemathesis.

Every operation in /api/v1/openapi.json gets generated requests, valid and invalid (schemathesis's
examples, coverage and fuzzing phases; at most 25 fuzzed examples per operation, plus its
boundary-value cases), sent in-process to the app of the `app` fixture with a valid bearer token:
an editor's, or for about one request in four the reporter's who owns the seeded case. No answer
may be a server error, and each must have a documented status, content type, headers and body.

Path parameters cannot be guessed, so about one request in three that has them is sent to the
seeded case of Rob's (its reference, evidence file, dossier and business) instead of the generated
values. Which requests do so, and as whom, follows from the generated request itself, so the run
is deterministic: Hypothesis is derandomized and keeps no example database.
"""
import io
import random
import re
import tempfile
import zlib
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection
from sqlalchemy import select

from investigations.api.tokens import create_token
from investigations.extensions import db
from investigations.models import Evidence
from investigations.models.common import LARGEST_ID
from tests import evidence_files
from tests.conftest import make_app
from tests.test_api import Api, file_via_api

MAX_EXAMPLES = 25  # fuzzed examples per operation; the coverage phase adds its own boundary cases


def openapi_document() -> dict:
    """The document as the app serves it. Building it needs no database, so a throwaway app does,
    at import time: schemathesis makes one test per operation when the tests are collected."""
    with tempfile.TemporaryDirectory() as tmp:
        response = make_app("sqlite://", Path(tmp)).test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


schema = schemathesis.openapi.from_dict(openapi_document())


class Seeded:
    """Tokens for Eve (editor) and Rob (reporter), and Rob's case with one evidence file and its
    business. The dossier is made only for the operation that reads one: rendering it takes time."""

    def __init__(self, app, users):
        self.secrets = {}
        for who in ("eve", "rob"):
            _, self.secrets[who] = create_token(users[who], f"{who}'s fuzzing token")
        db.session.commit()
        self.rob = Api(app, self.secrets["rob"])
        self.reference = file_via_api(self.rob, business_name="Robs Only Business Ltd", title="Rob's private case")
        uploaded = self.rob.post(f"/cases/{self.reference}/evidence", content_type="multipart/form-data",
                                 data={"files": [(io.BytesIO(evidence_files.jpeg()), "photo.jpg")]})
        assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
        self.evidence_id = db.session.scalar(select(Evidence.id))
        self.slug = self.rob.get(f"/cases/{self.reference}").json["business"]["slug"]
        self._dossier_id = None

    @property
    def dossier_id(self) -> int:
        if self._dossier_id is None:
            made = self.rob.post(f"/cases/{self.reference}/dossier", json={"audience": "internal"})
            assert made.status_code == 201, made.get_data(as_text=True)[:500]
            self._dossier_id = int(made.headers["X-Dossier-Id"])
        return self._dossier_id

    def path_parameters(self, names) -> dict:
        return {name: getattr(self, name) for name in names if name in ("reference", "evidence_id", "dossier_id",
                                                                        "slug")}


@pytest.fixture
def seeded(app, users):
    return Seeded(app, users)




def _pick(case) -> int:
    """A number that depends only on the generated request, so replaying an example (as Hypothesis
    does to confirm and shrink a failure) sends it to the same place as the same account."""
    generated = repr((case.method, case.path_parameters, case.query, case.body))
    return zlib.crc32(re.sub(r" at 0x[0-9a-f]+", "", generated).encode())  # no memory address (a missing body)


def _tests_the_credential(case) -> bool:
    """Whether schemathesis generated this request to try the Authorization header itself."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    return str(getattr(data, "parameter", "") or "").lower() == "authorization"


def _untellable(case) -> list:
    """In multipart/form-data every field arrives as text: a `caption` sent as a JSON number or
    object is, to the server, the text of that number or object, which is a valid caption. So a
    multipart request made "invalid" only by such a type change cannot be refused; every other
    check still applies to it."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    mutations = getattr(data, "mutations", None) or []
    is_multipart = (case.media_type or "").startswith("multipart/")
    if is_multipart and mutations and all(
            tuple(mutation.keywords) == ("type",) and mutation.schema_pointer.rsplit("/", 1)[-1] in ("caption", "source")
            for mutation in mutations):
        return [negative_data_rejection]
    return []


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,  # one seeded database per operation
                                 HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
def test_no_generated_request_makes_a_server_error(case, app, seeded):
    pick = _pick(case)
    if case.path_parameters and pick % 3 == 0:
        case.path_parameters = {**case.path_parameters, **seeded.path_parameters(case.path_parameters)}
    who = "rob" if pick // 3 % 4 == 0 else "eve"
    if not _tests_the_credential(case):  # a missing or made-up Authorization must get its 401
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {seeded.secrets[who]}"}
    # In-process (WSGI) for the request and for the checks that send their own (ignored_auth, ...).
    case.operation.schema.app = case.operation.app = app
    # Hypothesis gives every example the same global `random` state; the search index (Whoosh) names
    # new segments with `random`, so equal names would collide across examples. Production workers
    # are reseeded at fork; so is the app here.
    random.seed()
    # An unhandled exception becomes the app's 500 problem answer; its traceback is in the captured log.
    client = app.test_client()
    response = case.call(session=client)
    # schemathesis's default checks, all of them: besides "no server error" and a documented answer,
    # a request the document calls invalid must be refused and a valid one accepted, a missing or
    # revoked credential must be refused (ignored_auth replays the request without it), and so on.
    case.validate_response(response, headers=case.headers, transport_kwargs={"session": client},
                           excluded_checks=_untellable(case))


def test_a_case_is_sent_as_the_document_describes_it(app, seeded):
    response = Api(app, seeded.secrets["eve"]).get(f"/cases/{seeded.reference}")
    assert response.status_code == 200
    assert schema["/api/v1/cases/{reference}"]["GET"].is_valid_response(response)


def test_an_assignee_id_beyond_the_id_range_finds_no_case_and_is_not_an_error(app, seeded):
    """Ids are INTEGER columns: a larger one used to overflow on PostgreSQL (a 500)."""
    response = Api(app, seeded.secrets["eve"]).get("/cases", query_string={"assignee": str(LARGEST_ID + 1)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["items"] == [] and response.json["total"] == 0
