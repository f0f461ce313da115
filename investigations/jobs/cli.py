"""`flask jobs consumer|list|retry|run-scheduled-now`."""
import logging
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..models import Job, JobState
from . import queue

jobs_cli = AppGroup("jobs", help="Run and inspect background jobs.")


@jobs_cli.command("consumer")
@click.option("--workers", type=int, help="Worker threads (default JOBS_WORKERS).")
def consumer_command(workers):
    """Run the jobs and the schedules until stopped (make run and make serve start it)."""
    if queue.huey.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is on: jobs run where they are queued; there is nothing to consume.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .tasks import remove_abandoned_files

    click.echo(remove_abandoned_files(), err=True)
    recovered = queue.recover_interrupted() + queue.requeue_stale()
    if recovered:
        click.echo(f"Queued again {len(recovered)} jobs interrupted earlier: {recovered}", err=True)
    count = workers or current_app.config["JOBS_WORKERS"]
    click.echo(f"Jobs consumer running ({'Redis' if current_app.config.get('REDIS_URL') else 'SQLite'} queue, "
               f"{count} workers); Ctrl-C stops it (a job it interrupts runs again at the next start).", err=True)
    consumer = queue.huey.create_consumer(workers=count, worker_type="thread", periodic=True,
                                          check_worker_health=True)
    consumer.run()


@jobs_cli.command("list")
@click.option("--all", "everything", is_flag=True, help="Also the last 50 finished jobs.")
def list_command(everything):
    """Counts by state, then every job not done (and with --all the recent finished ones)."""
    counts = dict(db.session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    click.echo(", ".join(f"{counts.get(state.value, 0)} {state.value}" for state in JobState))
    query = select(Job).where(Job.state.in_([JobState.QUEUED.value, JobState.RUNNING.value,
                                             JobState.RETRYING.value, JobState.FAILED.value]))
    jobs = list(db.session.scalars(query.order_by(Job.id)))
    if everything:
        jobs += list(reversed(db.session.scalars(select(Job).where(Job.state.in_(
            [JobState.DONE.value, JobState.DISCARDED.value])).order_by(Job.id.desc()).limit(50)).all()))
    for job in jobs:
        detail = job.error or job.result or ""
        click.echo(f"#{job.id:<6} {job.state:<9} {job.kind:<24} {job.attempts}/{job.max_attempts}  "
                   f"{job.created_at:%Y-%m-%d %H:%M}  {job.key or ''}  {detail[:200]}")


@jobs_cli.command("retry")
@click.argument("job_ids", nargs=-1, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="Every failed job.")
def retry_command(job_ids, all_failed):
    """Queue failed jobs again (by id, or --failed for all of them)."""
    ids = list(job_ids)
    if all_failed:
        ids += db.session.scalars(select(Job.id).where(Job.state == JobState.FAILED.value)).all()
    if not ids:
        raise click.UsageError("Give job ids, or --failed.")
    for job_id in ids:
        job = db.session.get(Job, job_id)
        if job is None or job.state in (JobState.DONE.value, JobState.RUNNING.value):
            click.echo(f"#{job_id}: {'no such job' if job is None else job.state}; not retried.", err=True)
            continue
        audit.record("job.retry", job, actor_label="command line", kind=job.kind, previous_state=job.state)
        queue.retry(job)
        db.session.commit()
        queue.dispatch(job_id)
        click.echo(f"#{job_id} queued again.")


@jobs_cli.command("run-scheduled-now")
@click.argument("kinds", nargs=-1)
def run_scheduled_now_command(kinds):
    """Run the scheduled jobs (all, or the KINDS named) now, in this process, and report."""
    from ..models import utcnow
    from .tasks import SCHEDULES, submit_scheduled

    chosen = [s for s in SCHEDULES if not kinds or s.kind in kinds]
    if kinds and len(chosen) != len(set(kinds)):
        raise click.UsageError("Known scheduled jobs: " + ", ".join(s.kind for s in SCHEDULES))
    failed = False
    for schedule in chosen:
        job = submit_scheduled(schedule, key=f"{schedule.kind}@manual-{utcnow():%Y-%m-%dT%H:%M:%S.%f}")
        queue.run_job(job.id)  # a no-op if the queue ran it already
        db.session.expire_all()
        job = db.session.get(Job, job.id)
        click.echo(f"{schedule.kind}: {job.state}. {job.result or job.error or ''}", err=job.state != "done")
        failed = failed or job.state in (JobState.FAILED.value, JobState.RETRYING.value)
    if failed:
        sys.exit(1)
