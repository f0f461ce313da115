"""One index writer: web requests only queue their changes; the indexer process applies them."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from investigations.extensions import db
from investigations.models import SearchQueueEntry
from investigations.search import get_backend
from investigations.search.indexer import IndexerAlreadyRunning, indexer_lock, run_indexer
from investigations.search.query import SearchRequest
from tests.conftest import PASSWORD, TEST_DATABASE_URL, file_case, sign_in

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the indexer runs the same on PostgreSQL; "
                                "these tests use a SQLite file a child process can open")


@pytest.fixture
def separate(app_factory, users):
    """An app whose requests never write the index (SEARCH_INDEXER=separate, the default)."""
    app = app_factory(SEARCH_INDEXER="separate")
    with app.app_context():
        yield app


def queued() -> int:
    count = db.session.scalar(select(func.count()).select_from(SearchQueueEntry))
    db.session.rollback()
    return count


def found(app, word: str, editor) -> int:
    with app.app_context():
        return get_backend().search(SearchRequest(text=word), editor).total


def test_a_request_only_queues_and_the_indexer_makes_it_findable_within_a_second(separate, users):
    client = separate.test_client()
    sign_in(client, users["rita"].email, PASSWORD)
    file_case(client, title="Quokka blender broke", narrative="The quokka blender broke on day one.")
    assert queued() == 1 and found(separate, "quokka", users["eve"]) == 0  # nothing written by the request
    stop = threading.Event()
    worker = threading.Thread(target=run_indexer, args=(separate, stop), kwargs={"idle_seconds": 0.02})
    started = time.monotonic()
    worker.start()
    try:
        while found(separate, "quokka", users["eve"]) == 0 and time.monotonic() - started < 5:
            time.sleep(0.02)
        assert time.monotonic() - started < 1.0
        while queued() and time.monotonic() - started < 5:  # the queue row goes right after the write
            time.sleep(0.02)
        assert queued() == 0
    finally:
        stop.set()
        worker.join(10)


def test_only_one_indexer_runs_per_index(separate):
    with indexer_lock(current_app.config["SEARCH_INDEX_DIR"]):
        with pytest.raises(IndexerAlreadyRunning):
            with indexer_lock(current_app.config["SEARCH_INDEX_DIR"]):
                pass


def _start_indexer(app) -> subprocess.Popen:
    """`flask search indexer` in its own process, once it says it is running."""
    config = app.config
    env = {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "SEARCH_INDEX_DIR": config["SEARCH_INDEX_DIR"],
           "SEARCH_BACKEND": config["SEARCH_BACKEND"], "SECRET_KEY": "x", "AUDIT_KEY": config["AUDIT_KEY"],
           "EVIDENCE_DIR": config["EVIDENCE_DIR"], "INSTANCE_DIR": config["INSTANCE_DIR"]}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "search", "indexer"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    assert "Indexer running" in line, line + process.stderr.read()
    return process


def _stop(process: subprocess.Popen, signum) -> int:
    process.send_signal(signum)
    code = process.wait(20)
    process.stderr.close()
    return code


def test_an_indexer_killed_mid_way_leaves_nothing_lost_after_a_restart(separate, users, runner):
    client = separate.test_client()
    sign_in(client, users["rita"].email, PASSWORD)
    for number in range(40):
        file_case(client, title=f"Wombat kettle {number}", narrative=f"Kettle number {number} melted.")
    assert queued() == 40
    _stop(_start_indexer(separate), signal.SIGKILL)  # killed as soon as it runs, perhaps mid-batch
    indexer = _start_indexer(separate)  # a second start takes the lock the killed one left
    try:
        deadline = time.monotonic() + 60
        while queued() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queued() == 0
    finally:
        assert _stop(indexer, signal.SIGTERM) == 0  # stops cleanly when asked
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    assert found(separate, "wombat", users["eve"]) == 40


def test_an_import_from_the_terminal_starts_an_indexer_alongside_when_none_runs(separate, users):
    config = separate.config
    env = {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "SEARCH_INDEX_DIR": config["SEARCH_INDEX_DIR"],
           "SEARCH_BACKEND": config["SEARCH_BACKEND"], "SECRET_KEY": "x", "AUDIT_KEY": config["AUDIT_KEY"],
           "EVIDENCE_DIR": config["EVIDENCE_DIR"], "INSTANCE_DIR": config["INSTANCE_DIR"]}
    fixture = Path(__file__).parent / "fixtures" / "imports" / "cfpb_18.csv"
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "import", "cfpb", str(fixture),
                             "--as", users["eve"].email], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Imported 4 complaints" in result.stdout and "waiting for the search index" not in result.stdout
    assert queued() == 0 and found(separate, "midland", users["eve"]) == 1
    with indexer_lock(config["SEARCH_INDEX_DIR"]):  # the indexer it started has stopped
        pass
