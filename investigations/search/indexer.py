"""The single index writer: one process applies the search queue to the index.

Web workers never write the index: a commit queues the touched cases (sync.py) and returns.
The indexer (`flask search indexer`, started by `make run` and `make serve`) takes the queue in
batches as it fills, so a saved case is findable a fraction of a second after its commit, and
an import or a burst of edits becomes a few large index commits instead of many small ones.
A lock file makes sure only one indexer runs per index directory.
"""
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

IDLE_SECONDS = 0.1  # how often an idle indexer looks at the queue
BATCH = 2000
HOLD_WRITER_SECONDS = 5.0  # the longest the indexer keeps the index's writer from other processes


class IndexerAlreadyRunning(RuntimeError):
    pass


@contextmanager
def indexer_lock(index_dir: str):
    """Held while this process is the indexer; IndexerAlreadyRunning if another one is."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(index_dir) / "indexer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexerAlreadyRunning(f"Another indexer is already running for {index_dir}.") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def run_indexer(app: Flask, stop: threading.Event, on_batch: Callable[[int], None] | None = None,
                idle_seconds: float = IDLE_SECONDS) -> None:
    """Apply the queue to the index until `stop` is set."""
    from . import get_backend
    from .sync import process_queue

    with app.app_context():
        backend = get_backend()
    # An engine with a writer of its own (tantivy) keeps it open while the queue has work: a commit
    # then never waits for the merges of the one before, which run on meanwhile. It lets go as soon
    # as the queue is empty, or after HOLD_WRITER_SECONDS, so that another process may write.
    holds = hasattr(backend, "release_writer")
    held_since = None
    with indexer_lock(app.config["SEARCH_INDEX_DIR"]):
        try:
            while not stop.is_set():
                if holds:
                    backend.keep_writer = True
                    held_since = held_since or time.monotonic()
                try:
                    with app.app_context():
                        done = process_queue(limit=BATCH)
                except Exception:  # the database or the index is down for a moment: try again shortly
                    app.logger.exception("The indexer could not apply the queue; retrying")
                    done = 0
                    stop.wait(1.0)
                if holds and (not done or time.monotonic() - held_since > HOLD_WRITER_SECONDS):
                    backend.keep_writer, held_since = False, None
                    backend.release_writer()
                if done and on_batch:
                    on_batch(done)
                if not done:
                    stop.wait(idle_seconds)
        finally:
            if holds:
                backend.keep_writer = False
                backend.release_writer()


def wait_until_indexed(app: Flask, timeout: float = 10.0) -> bool:
    """True once the queue is empty (for scripts and benchmarks that search right after writing)."""
    from sqlalchemy import func, select

    from ..extensions import db
    from ..models import SearchQueueEntry

    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            if not db.session.scalar(select(func.count()).select_from(SearchQueueEntry)):
                db.session.rollback()
                return True
            db.session.rollback()
            time.sleep(0.05)
    return False


def queue_length(app: Flask) -> int:
    from sqlalchemy import func, select

    from ..extensions import db
    from ..models import SearchQueueEntry

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(SearchQueueEntry)) or 0
        db.session.rollback()
        return count


@contextmanager
def indexer_alongside(app: Flask):
    """Make sure an indexer runs while the block runs (a long import): the one already running, or
    one started as a child process for the block's duration. Indexing then uses the other core
    while the block inserts rows. Yields a function that waits until the queue is empty."""
    try:
        with indexer_lock(app.config["SEARCH_INDEX_DIR"]):
            running = False
    except IndexerAlreadyRunning:
        running = True
    child = None
    if not running:
        child = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "search", "indexer"],
                                 cwd=app.root_path.rsplit("/", 1)[0], stderr=subprocess.DEVNULL)

    def drain(progress: Callable[[int], None] | None = None, timeout: float = 3600) -> bool:
        deadline = time.monotonic() + timeout
        while (left := queue_length(app)) and time.monotonic() < deadline:
            if child is not None and child.poll() is not None:
                return False  # the indexer died: what is left stays queued
            if progress:
                progress(left)
            time.sleep(0.2)
        return not left

    try:
        yield drain
    finally:
        if child is not None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
