"""Background jobs: recorded before they are queued, claimed once, retried with back-off, shown
to admins, and run again after a consumer is killed mid-job."""
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from investigations import create_app
from investigations.evidence.extraction import ocr_available
from investigations.extensions import db
from investigations.jobs import queue
from investigations.models import AuditEvent, Evidence, Job, utcnow
from tests.conftest import file_case

REPO = Path(__file__).resolve().parent.parent
FLAKY = {"failures_left": 0, "runs": 0}


@queue.handler("test.flaky", "Test: fails while told to", max_attempts=3)
def flaky_job(word: str) -> str:
    FLAKY["runs"] += 1
    if FLAKY["failures_left"] > 0:
        FLAKY["failures_left"] -= 1
        raise RuntimeError(f"flaky failure for {word}")
    return f"said {word}"


@queue.handler("test.slow", "Test: waits for a release file")
def slow_job(marker_dir: str) -> str:
    """Notes each start, waits until the test creates `release`, notes the end."""
    marker = Path(marker_dir)
    with open(marker / "log", "a") as log:
        log.write(f"start {os.getpid()}\n")
    deadline = time.monotonic() + 60
    while not (marker / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(marker / "log", "a") as log:
        log.write(f"end {os.getpid()}\n")
    return "released"


def consumer_app():
    """The app a consumer subprocess runs (flask --app 'tests.test_jobs:consumer_app()')."""
    return create_app()


def job(job_id) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_a_failing_job_retries_with_back_off_then_fails_and_shows_on_the_admin_page(app, login):
    FLAKY.update(failures_left=10, runs=0)
    submitted = queue.submit("test.flaky", word="hello")  # immediate mode: the first attempt runs now
    row = job(submitted.id)
    assert row.state == "retrying" and row.attempts == 1 and "flaky failure for hello" in row.error
    first_wait = row.run_after - utcnow()
    queue.run_job(row.id)  # the retry Huey would send after the delay
    row = job(row.id)
    assert row.state == "retrying" and row.attempts == 2
    assert row.run_after - utcnow() > first_wait  # the wait doubles
    queue.run_job(row.id)
    row = job(row.id)
    assert row.state == "failed" and row.attempts == 3 and row.finished_at is not None
    assert queue.run_job(row.id) is None  # a stray message for a failed job does nothing

    ada = login("ada")
    page = ada.get("/admin/jobs").get_data(as_text=True)
    assert "Failed (1)" in page and "flaky failure for hello" in page and "3 of 3" in page
    assert "Retried recently" in page

    FLAKY["failures_left"] = 0
    assert ada.post("/admin/jobs/retry", data={"job_id": row.id}).status_code == 302
    row = job(row.id)
    assert row.state == "done" and row.result == "said hello" and row.attempts == 1
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "job.retry"))
    assert audit.actor_label == "ada@example.org" and audit.object_id == str(row.id)


def test_admins_discard_a_job_and_others_may_not(app, login):
    FLAKY.update(failures_left=10, runs=0)
    row = queue.submit("test.flaky", word="bye")
    assert login("eve").post("/admin/jobs/discard", data={"job_id": row.id}).status_code == 403
    ada = login("ada")
    assert ada.post("/admin/jobs/discard", data={"job_id": row.id}).status_code == 302
    assert job(row.id).state == "discarded"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "job.discard")) == "job.discard"
    assert ada.post("/admin/jobs/retry", data={}).status_code == 302  # no id: a message, not an error
    for typed in ("99999999999999999999999", "abc", "-1", "١٢"):  # whatever is typed: a message, not an error
        assert ada.post("/admin/jobs/retry", data={"job_id": typed}).status_code == 302
        assert ada.post("/admin/jobs/discard", data={"job_id": typed}).status_code == 302


def test_the_same_work_is_not_queued_twice_while_unfinished(app):
    FLAKY.update(failures_left=10, runs=0)
    first = queue.submit("test.flaky", key="thing:1", word="x")
    again = queue.submit("test.flaky", key="thing:1", word="x")
    assert again.id == first.id and FLAKY["runs"] == 1


def test_background_extraction_is_a_recorded_job(app_factory, users):
    from tests.conftest import sign_in

    app = app_factory(EVIDENCE_EXTRACTION="background")  # tests run jobs immediately
    client = app.test_client()
    sign_in(client, "rita@example.org")
    reference = file_case(client)
    client.post(f"/cases/{reference}/evidence", data={"files": [(io.BytesIO(b"job text\n"), "n.txt")]},
                content_type="multipart/form-data")
    with app.app_context():
        evidence = db.session.scalar(select(Evidence))
        row = db.session.scalar(select(Job).where(Job.kind == "evidence.extract"))
        assert row.key == f"evidence:{evidence.id}" and row.state == "done"
        assert evidence.extraction_state == "done" and evidence.extracted_text == "job text"


def test_photo_copies_are_made_by_a_job_and_a_dossier_does_not_wait_for_it(app_factory, users, tmp_path,
                                                                          monkeypatch):
    from investigations.dossiers.audiences import AUDIENCES, Choices
    from investigations.dossiers.services import issue_now, start_dossier
    from investigations.evidence import images
    from investigations.evidence.filetypes import RefusedFile
    from investigations.models import Case, User
    from investigations.storage import EvidenceStore
    from tests import evidence_files
    from tests.conftest import sign_in

    app = app_factory(EVIDENCE_EXTRACTION="background", JOBS_IMMEDIATE=False,
                      JOBS_SQLITE_PATH=str(tmp_path / "queue.sqlite3"))
    client = app.test_client()
    sign_in(client, "rita@example.org")
    reference = file_case(client)
    whole = evidence_files.jpeg(size=(1600, 1200))
    broken = evidence_files.jpeg(size=(1200, 900), color=(10, 200, 30))
    broken_sha256 = hashlib.sha256(broken).hexdigest()
    make_copies = images.make_copies

    def decoder(path, targets, max_pixels):  # its header reads; its pixels do not decode
        if path.name.startswith(broken_sha256):
            raise RefusedFile("This image could not be decoded.")
        return make_copies(path, targets, max_pixels)

    monkeypatch.setattr(images, "make_copies", decoder)
    response = client.post(f"/cases/{reference}/evidence", content_type="multipart/form-data", data={
        "files": [(io.BytesIO(whole), "shelf.jpg"), (io.BytesIO(broken), "b.jpg")]})
    assert response.status_code == 302
    with app.app_context():
        photos = {e.original_name: e for e in db.session.scalars(select(Evidence))}
        store = EvidenceStore(app.config["EVIDENCE_DIR"])
        good, bad = photos["shelf.jpg"], photos["b.jpg"]
        assert good.has_thumbnail and bad.has_thumbnail  # their headers were read; the copies wait
        assert not store.derived_path(good.sha256, "print").exists()
        jobs = {row.key: row for row in db.session.scalars(select(Job).where(Job.kind == "evidence.photo_copies"))}
        assert set(jobs) == {f"photo:{good.sha256}", f"photo:{bad.sha256}"}
        assert {row.state for row in jobs.values()} == {"queued"}

        # A dossier with photos, issued before the consumer got to them, makes the copies it prints.
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        dossier = start_dossier(AUDIENCES["bbb"], db.session.get(User, users["eve"].id), case=case,
                                choices=Choices((), True))
        issue_now(dossier)
        assert dossier.is_ready and store.derived_path(good.sha256, "print").is_file()

        for row in jobs.values():
            assert queue.run_job(row.id) == "done"
        db.session.expire_all()
        assert db.session.get(Evidence, good.id).has_thumbnail
        assert store.derived_path(good.sha256, "thumb").is_file()
        assert not db.session.get(Evidence, bad.id).has_thumbnail  # no preview of pixels that do not decode
        assert "could not be decoded" in job(jobs[f"photo:{bad.sha256}"].id).result


def test_an_uploaded_photos_ocr_text_becomes_searchable_through_a_job(app_factory, users):
    from tests import evidence_files
    from tests.conftest import sign_in

    if not ocr_available():
        pytest.skip("Tesseract is not installed (apt-get install tesseract-ocr)")
    app = app_factory(EVIDENCE_EXTRACTION="background")
    client = app.test_client()
    sign_in(client, "rita@example.org")
    reference = file_case(client)
    photo = evidence_files.receipt_photo(["ACME APPLIANCES", "WASHER 499.99", "ZANZIBAR"])
    client.post(f"/cases/{reference}/evidence", data={"files": [(io.BytesIO(photo), "receipt.jpg")]},
                content_type="multipart/form-data")
    with app.app_context():
        from investigations.models import User
        from investigations.search import get_backend
        from investigations.search.query import SearchRequest

        assert db.session.scalar(select(Job.state).where(Job.kind == "evidence.extract")) == "done"
        results = get_backend().search(SearchRequest(text="zanzibar"), db.session.get(User, users["rita"].id))
        assert [hit.reference for hit in results.hits] == [reference] and results.corrected is None


def test_a_job_left_running_by_a_dead_consumer_is_queued_again(app):
    FLAKY.update(failures_left=0, runs=0)
    row = Job(kind="test.flaky", args='{"word": "again"}', state="running", attempts=1, max_attempts=3,
              worker="elsewhere:1", started_at=utcnow() - timedelta(hours=2), created_at=utcnow() - timedelta(hours=2))
    db.session.add(row)
    db.session.commit()
    assert queue.requeue_stale() == [row.id]
    assert job(row.id).state == "done" and FLAKY["runs"] == 1


def test_a_job_whose_message_was_lost_is_queued_again_but_a_backlog_is_not(app, app_factory, tmp_path):
    queued_app = app_factory(JOBS_IMMEDIATE=False, JOBS_SQLITE_PATH=str(tmp_path / "queue.sqlite3"))
    with queued_app.app_context():
        row = queue.submit("test.flaky", word="lost")
        db.session.get(Job, row.id).created_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        assert queue.huey.pending_count() == 1
        assert queue.requeue_stale() == []  # its message still waits: a long backlog is not queued twice
        queue.huey.flush()  # the message is lost (a queue emptied by hand, a Redis restarted without persistence)
        assert queue.requeue_stale() == [row.id] and queue.huey.pending_count() == 1


def test_flask_jobs_list_and_retry(app, runner):
    FLAKY.update(failures_left=10, runs=0)
    row = queue.submit("test.flaky", word="cli")
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0 and "retrying" in result.output and "flaky failure for cli" in result.output
    FLAKY["failures_left"] = 0
    result = runner.invoke(args=["jobs", "retry", str(row.id)])
    assert result.exit_code == 0, result.output
    assert job(row.id).state == "done"


def test_with_redis_url_the_queue_is_in_redis(app, app_factory, users):
    import redis
    from huey.storage import RedisStorage

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"No Redis at {url}")
    queued_app = app_factory(REDIS_URL=url, JOBS_IMMEDIATE=False)
    assert isinstance(queue.huey.storage, RedisStorage)
    queue.huey.flush()
    FLAKY.update(failures_left=0, runs=0)
    with queued_app.app_context():
        row = queue.submit("test.flaky", word="redis")
        assert job(row.id).state == "queued" and queue.huey.pending_count() == 1 and FLAKY["runs"] == 0
        queue.huey.execute(queue.huey.dequeue())  # what the consumer does with the message
        assert job(row.id).state == "done" and queue.huey.pending_count() == 0
        admin = queued_app.test_client()
        from tests.conftest import sign_in

        sign_in(admin, "ada@example.org")
        assert "Queue: Redis, 0 messages waiting" in admin.get("/admin/jobs").get_data(as_text=True)


def _wait_for(condition, seconds=30.0, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _start_consumer(env, log_path):
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "tests.test_jobs:consumer_app()", "jobs",
                                 "consumer", "--workers", "1"], cwd=REPO, env=env, stdout=log, stderr=log,
                                start_new_session=True)


def test_a_job_survives_a_consumer_killed_with_sigkill(app, app_factory, tmp_path):
    """The queue itself: a real consumer process, killed in the middle of a job, runs it again
    once restarted, and the job ends done exactly once."""
    queue_file, marker = tmp_path / "queue.sqlite3", tmp_path / "marker"
    marker.mkdir()
    settings = {"JOBS_IMMEDIATE": False, "JOBS_SQLITE_PATH": str(queue_file)}
    queued_app = app_factory(**settings)
    with queued_app.app_context():
        row = queue.submit("test.slow", marker_dir=str(marker))
        assert job(row.id).state == "queued"

        env = {**os.environ, "DATABASE_URL": queued_app.config["SQLALCHEMY_DATABASE_URI"],
               "JOBS_IMMEDIATE": "false", "JOBS_SQLITE_PATH": str(queue_file), "SECRET_KEY": "test",
               "AUDIT_KEY": queued_app.config["AUDIT_KEY"], "EVIDENCE_DIR": queued_app.config["EVIDENCE_DIR"],
               "SEARCH_INDEX_DIR": queued_app.config["SEARCH_INDEX_DIR"], "SEARCH_INDEXER": "inline",
               "PYTHONPATH": str(REPO)}
        log = marker / "log"
        first = _start_consumer(env, tmp_path / "consumer1.log")
        try:
            _wait_for(lambda: log.exists() and "start" in log.read_text(), what="the job to start")
            running = job(row.id)
            assert running.state == "running" and running.worker.endswith(f":{first.pid}")
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        assert job(row.id).state == "running"  # Huey took the message; only the row remembers the job

        (marker / "release").touch()
        second = _start_consumer(env, tmp_path / "consumer2.log")
        try:
            _wait_for(lambda: job(row.id).state == "done", what="the job to finish after the restart")
        finally:
            os.killpg(second.pid, signal.SIGINT)
            second.wait(20)
        lines = log.read_text().split()
        assert lines.count("start") == 2 and lines.count("end") == 1
        done = job(row.id)
        assert done.attempts == 2 and done.result == "released"
        assert "interrupted earlier" in (tmp_path / "consumer2.log").read_text()
