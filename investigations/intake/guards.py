"""Spam and abuse checks of the public form, without any outside service.

Each check answers None (fine) or a Refusal: the plain words the person reads. A refused
submission stores nothing. The per-address rate limits are Flask-Limiter's (see routes.py).
"""
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from ..extensions import db
from ..models import IntakeSubmission, utcnow

FORM_SALT = "intake-form-started"
FORM_MAX_AGE = timedelta(hours=24)  # a form left open longer is refused: load it again


@dataclass
class Refusal:
    message: str
    reason: str  # for the log: honeypot, too_fast, bad_start, stale, daily_cap


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=FORM_SALT)


def form_started_token(now: float | None = None) -> str:
    """The hidden field that says, signed, when the form was shown."""
    return _serializer().dumps(int(now if now is not None else time.time()))


def check_honeypot(value: str | None) -> Refusal | None:
    if value:
        return Refusal("Your complaint was not sent: a field that people never see was filled in, which is what "
                       "automated programs do. If you are a person, leave the “Leave this empty” field blank and "
                       "send the form again.", "honeypot")
    return None


def check_fill_time(token: str | None, now: float | None = None) -> Refusal | None:
    """The form must have been open at least INTAKE_MIN_SECONDS, and at most a day."""
    now = now if now is not None else time.time()
    try:
        started = int(_serializer().loads(token or ""))
    except (BadSignature, TypeError, ValueError):
        return Refusal("Your complaint was not sent: the form was damaged or incomplete. Please fill it in again "
                       "on this page.", "bad_start")
    if now - started < current_app.config["INTAKE_MIN_SECONDS"]:
        return Refusal("Your complaint was not sent: it was sent within seconds of opening the form, faster than "
                       "a person can write one, so we took it for an automated program. Check your answers and "
                       "send it again.", "too_fast")
    if now - started > FORM_MAX_AGE.total_seconds():
        return Refusal("Your complaint was not sent: the form was opened more than a day ago. Please check your "
                       "answers and send it again.", "stale")
    return None


def check_daily_cap(now: datetime | None = None) -> Refusal | None:
    """At most INTAKE_DAILY_CAP submissions in the last 24 hours, from everyone together."""
    since = (now or utcnow()) - timedelta(days=1)
    count = db.session.scalar(select(func.count(IntakeSubmission.id)).where(IntakeSubmission.submitted_at >= since))
    if count >= current_app.config["INTAKE_DAILY_CAP"]:
        return Refusal("Your complaint was not sent: we have received as many complaints today as we can read. "
                       "Please try again tomorrow.", "daily_cap")
    return None
