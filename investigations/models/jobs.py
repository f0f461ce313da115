"""Background jobs and e-mail alerts.

A `Job` row is the durable record of one piece of background work: it is written (and committed)
before the job is handed to the queue (Huey), and a job counts as done only when its row says so.
The queue only wakes a consumer up; what is queued, running, failed or retried is read from here.
"""
import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import utcnow


class JobState(str, enum.Enum):
    QUEUED = "queued"  # waiting for a consumer
    RUNNING = "running"  # claimed by a consumer (`worker`), since `started_at`
    RETRYING = "retrying"  # failed, runs again after `run_after`
    DONE = "done"
    FAILED = "failed"  # failed its last attempt; stays until retried or discarded
    DISCARDED = "discarded"  # an admin gave up on it

    @property
    def label(self) -> str:
        return self.value.capitalize()


UNFINISHED = (JobState.QUEUED.value, JobState.RUNNING.value, JobState.RETRYING.value)


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_created_at", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))  # "evidence.extract", "dossier.render", …
    # What the job is about ("evidence:42"), so the same work is not queued twice while unfinished.
    key: Mapped[str | None] = mapped_column(String(120), index=True)
    args: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    state: Mapped[str] = mapped_column(String(12), default=JobState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    error: Mapped[str | None] = mapped_column(Text)  # the last failure
    result: Mapped[str | None] = mapped_column(Text)  # a one-line summary of the last success
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid of the consumer running it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    run_after: Mapped[datetime | None]  # the next attempt of a retrying job

    @property
    def state_enum(self) -> JobState:
        return JobState(self.state)


class AlertPreferences(db.Model):
    """Which e-mails a user wants. No row: the defaults (every alert on)."""

    __tablename__ = "alert_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    saved_search_digest: Mapped[bool] = mapped_column(default=True, server_default=true())
    reply_reminders: Mapped[bool] = mapped_column(default=True, server_default=true())
    integrity_alerts: Mapped[bool] = mapped_column(default=True, server_default=true())  # admins only
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SavedSearchMatch(db.Model):
    """A case found by the hourly check of a saved search, until the daily digest has mailed it."""

    __tablename__ = "saved_search_matches"
    __table_args__ = (UniqueConstraint("saved_search_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    saved_search_id: Mapped[int] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    mailed_at: Mapped[datetime | None]


class ReminderSent(db.Model):
    """A right-of-reply reminder mailed to one user about one deadline: each is sent once."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("case_id", "user_id", "kind", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "due_soon" or "overdue"
    due_on: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
