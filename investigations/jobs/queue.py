"""The job queue: a `jobs` row records each piece of work, Huey carries it to a consumer.

Nothing is lost, because the row, not Huey's message, is the truth:

1. `submit()` commits a `jobs` row (state *queued*) and only then hands Huey the row's id.
2. A consumer claims the row with one conditional UPDATE (queued/retrying → running, with its
   host:pid as `worker`); a message for a row someone else claimed, or that is finished, does nothing.
3. The row becomes *done* only after the work committed. An exception makes it *retrying* (again
   after JOBS_RETRY_SECONDS, doubling) until JOBS_MAX_ATTEMPTS, then *failed*, shown to admins.
4. Huey deletes a message when a consumer takes it, so a consumer killed mid-job (SIGKILL, OOM,
   power) leaves a row *running* with its dead pid. A consumer starting on that host queues such
   rows again at once (`recover_interrupted`); `requeue_stale` (every 5 minutes) queues again what
   stayed running past JOBS_STALE_MINUTES, whatever host it was on, and, when no message waits in
   the queue, what stayed queued or retrying that long (its message was lost).

Jobs are therefore run at least once, and each handler is written to be safe to run twice.
"""
import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import or_, select, update

from ..extensions import db
from ..models import Job, JobState, utcnow
from ..models.jobs import UNFINISHED

log = logging.getLogger(__name__)

# One Huey instance for the process; init_app() points it at the configured storage.
huey = Huey("investigations", immediate=True, storage_class=MemoryStorage, results=False)
_state: dict = {"app": None}


class PermanentFailure(Exception):
    """A failure that another attempt would not change (the job fails at once, without retries)."""


@dataclass(frozen=True)
class Handler:
    kind: str
    run: Callable[..., str | None]  # returns a one-line summary for the admin page
    label: str
    max_attempts: int | None = None  # None: JOBS_MAX_ATTEMPTS
    on_failure: Callable[..., None] | None = None  # called with the args and the error when it finally fails


HANDLERS: dict[str, Handler] = {}


def handler(kind: str, label: str, max_attempts: int | None = None, on_failure=None):
    """Register a function as the job `kind`: @handler("evidence.extract", "Read evidence text")."""
    def decorator(fn):
        HANDLERS[kind] = Handler(kind, fn, label, max_attempts, on_failure)
        return fn
    return decorator


def init_app(app: Flask) -> None:
    """Point the process's Huey at this app's queue: Redis (REDIS_URL), the SQLite file, or
    nothing at all in immediate mode (jobs run when queued; tests)."""
    immediate = app.config.get("JOBS_IMMEDIATE")
    if immediate is None:
        immediate = bool(app.config.get("TESTING"))
    huey._immediate = immediate
    if immediate:
        huey.storage_class, huey.storage_kwargs = MemoryStorage, {}
    elif app.config.get("REDIS_URL"):
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": app.config["REDIS_URL"]}
    else:
        os.makedirs(os.path.dirname(app.config["JOBS_SQLITE_PATH"]) or ".", exist_ok=True)
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": app.config["JOBS_SQLITE_PATH"]}
    huey.storage = huey.get_storage(**huey.storage_kwargs)
    _state["app"] = app


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _app() -> Flask:
    return current_app._get_current_object() if has_app_context() else _state["app"]


# --- Queueing ----------------------------------------------------------------------------------


def submit(kind: str, key: str | None = None, once: bool = False, **args) -> Job:
    """Record a job and queue it. With a `key`, a job of that key still unfinished (with `once`:
    any job of that key, e.g. this hour's check) is returned instead of a second one. Commits the
    current session (call it after your own commit)."""
    if kind not in HANDLERS:
        raise KeyError(f"No job handler for {kind!r}.")
    if key is not None:
        same = select(Job).where(Job.key == key)
        if not once:
            same = same.where(Job.state.in_(UNFINISHED))
        existing = db.session.scalar(same.order_by(Job.id.desc()).limit(1))
        if existing is not None:
            return existing
    max_attempts = HANDLERS[kind].max_attempts or current_app.config["JOBS_MAX_ATTEMPTS"]
    job = Job(kind=kind, key=key, args=json.dumps(args, sort_keys=True), state=JobState.QUEUED.value,
              attempts=0, max_attempts=max_attempts)
    db.session.add(job)
    db.session.commit()
    dispatch(job.id)
    db.session.expire(job)  # it may have run (in its own session) meanwhile
    return job


def dispatch(job_id: int, delay: float | None = None) -> None:
    """Hand a job's id to Huey (in immediate mode: run it now). A lost message is not lost work:
    requeue_stale() dispatches the row again."""
    try:
        if delay:
            execute_job.schedule((job_id,), delay=delay)
        else:
            execute_job(job_id)
    except Exception:  # the queue is down: the row stays queued and the stale sweep sends it later
        log.exception("Could not queue job %s; it will be queued again later.", job_id)


# --- Running -----------------------------------------------------------------------------------


def _claim(job_id: int) -> bool:
    """Take the job for this process: one UPDATE, so two consumers never both take it."""
    stale = utcnow() - timedelta(minutes=current_app.config["JOBS_STALE_MINUTES"])
    claimable = or_(Job.state.in_([JobState.QUEUED.value, JobState.RETRYING.value]),
                    (Job.state == JobState.RUNNING.value) & (Job.started_at < stale))
    result = db.session.execute(
        update(Job).where(Job.id == job_id, claimable)
        .values(state=JobState.RUNNING.value, worker=worker_id(), started_at=utcnow(), attempts=Job.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def run_job(job_id: int) -> str | None:
    """Run one job if it is still to be run; record done, retrying or failed. Returns its state."""
    with _app().app_context():  # the job's own session, apart from any request's
        if not _claim(job_id):
            return None
        job = db.session.get(Job, job_id)
        kind, args = job.kind, json.loads(job.args or "{}")
        spec = HANDLERS.get(kind)
        try:
            if spec is None:
                raise PermanentFailure(f"No handler for jobs of kind {kind!r} (an older or newer version queued it).")
            summary = spec.run(**args)
        except Exception as error:
            db.session.rollback()
            return _record_failure(job_id, spec, args, error)
        db.session.execute(update(Job).where(  # not over a discard or another consumer's claim meanwhile
            Job.id == job_id, Job.worker == worker_id(), Job.state == JobState.RUNNING.value).values(
            state=JobState.DONE.value, finished_at=utcnow(), error=None, run_after=None,
            result=(summary or "")[:500] or None).execution_options(synchronize_session=False))
        db.session.commit()
        return JobState.DONE.value


def _record_failure(job_id: int, spec: Handler | None, args: dict, error: Exception) -> str:
    message = f"{error.__class__.__name__}: {error}"[:4000]
    log.warning("Job %s failed: %s", job_id, message)
    job = db.session.get(Job, job_id)
    config = current_app.config
    if not isinstance(error, PermanentFailure) and job.attempts < job.max_attempts:
        delay = config["JOBS_RETRY_SECONDS"] * 2 ** (job.attempts - 1)
        job.state, job.error, job.run_after = JobState.RETRYING.value, message, utcnow() + timedelta(seconds=delay)
        db.session.commit()
        dispatch(job_id, delay=delay)
        return job.state
    job.state, job.error, job.finished_at, job.run_after = JobState.FAILED.value, message, utcnow(), None
    db.session.commit()
    if spec and spec.on_failure:
        try:
            spec.on_failure(error=str(error) or error.__class__.__name__, **args)
        except Exception:
            db.session.rollback()
            log.exception("The failure handler of job %s failed", job_id)
    return job.state


@huey.task(name="execute_job")
def execute_job(job_id: int):
    run_job(job_id)


# --- Recovery ----------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted() -> list[int]:
    """Queue again the jobs a consumer on this host was running when it died (SIGKILL, crash)."""
    host = socket.gethostname()
    me = worker_id()
    rows = db.session.execute(select(Job.id, Job.worker).where(
        Job.state == JobState.RUNNING.value, Job.worker.like(f"{host}:%"))).all()
    dead = [job_id for job_id, worker in rows if worker != me and not _pid_alive(int(worker.rsplit(":", 1)[1]))]
    return _requeue(dead)


def _queue_is_empty() -> bool:
    """No message waits in Huey's queue (in immediate mode there is none). Unknown counts as not empty."""
    if huey.immediate:
        return True
    try:
        return huey.pending_count() == 0
    except Exception:
        log.exception("Could not count the queued messages")
        return False


def requeue_stale() -> list[int]:
    """Queue again what should have run by now: rows still running JOBS_STALE_MINUTES after they
    started (their consumer is gone) and, once the queue holds no message, queued or retrying rows
    overdue by as long (their message was lost). A long backlog is therefore not queued twice."""
    stale = utcnow() - timedelta(minutes=current_app.config["JOBS_STALE_MINUTES"])
    lost = (Job.state == JobState.RUNNING.value) & (Job.started_at < stale)
    if _queue_is_empty():
        lost = or_(lost, (Job.state == JobState.QUEUED.value) & (Job.created_at < stale),
                   (Job.state == JobState.RETRYING.value) & (Job.run_after < stale))
    ids = db.session.scalars(select(Job.id).where(lost).order_by(Job.id)).all()
    return _requeue(list(ids))


def _requeue(ids: list[int]) -> list[int]:
    for job_id in ids:
        db.session.execute(update(Job).where(Job.id == job_id, Job.state.in_(UNFINISHED))
                           .values(state=JobState.QUEUED.value, worker=None, run_after=None)
                           .execution_options(synchronize_session=False))
    db.session.commit()
    for job_id in ids:
        log.warning("Job %s was interrupted; queued again.", job_id)
        dispatch(job_id)
    return ids


# --- Admin actions -----------------------------------------------------------------------------


def retry(job: Job) -> None:
    """Run a failed (or stuck) job again, with a fresh count of attempts. The caller audits and commits first."""
    job.state, job.attempts, job.error, job.worker, job.run_after = JobState.QUEUED.value, 0, None, None, None
    job.finished_at = None


def discard(job: Job) -> None:
    job.state, job.finished_at, job.run_after = JobState.DISCARDED.value, utcnow(), None
