"""The admin page of jobs (/admin/jobs) and each account's e-mail alerts (/account/alerts)."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..models import AlertPreferences, Job, JobState
from ..permissions import admin_only, signed_in
from . import bp, queue
from .alerts import preferences
from .forms import AlertPreferencesForm, JobActionForm

SHOWN = 200


@bp.route("/admin/jobs")
@admin_only
def admin_jobs():
    from .tasks import SCHEDULES

    counts = dict(db.session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    open_jobs = db.session.scalars(select(Job).where(Job.state.in_(
        [JobState.RUNNING.value, JobState.QUEUED.value, JobState.RETRYING.value, JobState.FAILED.value]))
        .order_by(Job.id.desc()).limit(SHOWN)).all()
    sections = [(state, [job for job in open_jobs if job.state == state.value])
                for state in (JobState.FAILED, JobState.RETRYING, JobState.RUNNING, JobState.QUEUED)]
    retried = db.session.scalars(select(Job).where(Job.attempts > 1).order_by(Job.id.desc()).limit(50)).all()
    last_runs = []
    for schedule in SCHEDULES:
        last = db.session.scalar(select(Job).where(Job.kind == schedule.kind).order_by(Job.id.desc()).limit(1))
        last_ok = db.session.scalar(select(Job.finished_at).where(Job.kind == schedule.kind,
                                                                  Job.state == JobState.DONE.value)
                                    .order_by(Job.id.desc()).limit(1))
        last_runs.append((schedule, queue.HANDLERS[schedule.kind].label, last, last_ok))
    try:
        waiting = queue.huey.pending_count() if not queue.huey.immediate else 0
    except Exception:  # the queue's storage is unreachable: say so on the page
        waiting = None
    return render_template("jobs/admin.html", counts=counts, sections=sections, retried=retried,
                           last_runs=last_runs, handlers=queue.HANDLERS, waiting=waiting,
                           backend="Redis" if current_app.config.get("REDIS_URL") else "SQLite",
                           action_form=JobActionForm())


def _job_from_form() -> Job | None:
    form = JobActionForm()
    job_id = str(form.job_id.data or "")
    if not form.validate_on_submit() or not job_id.isascii() or not job_id.isdigit() or len(job_id) > 12:
        flash("No such job.", "error")
        return None
    job = db.session.get(Job, int(job_id))
    if job is None:
        flash("No such job.", "error")
    return job


def _act_on_job(action: str, refused_states: tuple[JobState, ...], refusal: str, apply, done: str,
                after_commit=None):
    """Retry or discard the posted job (audited), unless its state makes that meaningless."""
    job = _job_from_form()
    if job is not None:
        if job.state in {state.value for state in refused_states}:
            flash(refusal.format(job=job), "info")
        else:
            audit.record(f"job.{action}", job, kind=job.kind, previous_state=job.state, error=(job.error or "")[:500])
            apply(job)
            db.session.commit()
            if after_commit:
                after_commit(job.id)
            flash(done.format(job=job), "success")
    return redirect(url_for("jobs.admin_jobs"))


@bp.route("/admin/jobs/retry", methods=["POST"])
@admin_only
def retry_job():
    return _act_on_job("retry", (JobState.DONE, JobState.RUNNING), "Job #{job.id} is {job.state}; there is nothing to retry.",
                       queue.retry, "Job #{job.id} was queued again.", after_commit=queue.dispatch)


@bp.route("/admin/jobs/discard", methods=["POST"])
@admin_only
def discard_job():
    return _act_on_job("discard", (JobState.DONE, JobState.DISCARDED), "Job #{job.id} is {job.state} already.",
                       queue.discard, "Job #{job.id} was discarded.")


@bp.route("/account/alerts", methods=["GET", "POST"])
@signed_in
def alert_preferences():
    current = preferences(current_user)
    form = AlertPreferencesForm(obj=current if request.method == "GET" else None)
    if not current_user.is_admin:
        del form.integrity_alerts
    if form.validate_on_submit():
        row = db.session.get(AlertPreferences, current_user.id) or AlertPreferences(user_id=current_user.id)
        row.saved_search_digest = form.saved_search_digest.data
        row.reply_reminders = form.reply_reminders.data
        row.integrity_alerts = form.integrity_alerts.data if current_user.is_admin else row.integrity_alerts
        if row.integrity_alerts is None:
            row.integrity_alerts = True
        db.session.add(row)
        audit.record("account.alerts", current_user._get_current_object(), saved_search_digest=row.saved_search_digest,
                     reply_reminders=row.reply_reminders, integrity_alerts=row.integrity_alerts)
        db.session.commit()
        flash("Your e-mail alerts were saved.", "success")
        return redirect(url_for("jobs.alert_preferences"))
    return render_template("account/alerts.html", form=form,
                           mail_off=not current_app.config.get("MAIL_SERVER"))
