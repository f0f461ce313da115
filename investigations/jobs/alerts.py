"""What the scheduled jobs do: saved-search checks and digests, right-of-reply reminders and the
nightly integrity checks. Each is safe to run twice: what was found or mailed is recorded, and
the records are what the next run reads. (A crash between sending a mail and recording it can
send that mail twice; nothing is left unsent.)

E-mails name cases by reference, business, category and dates, with a link; never a
complainant's name, e-mail, phone or address, and no titles or narratives, which often quote them.
"""
from collections import defaultdict
from datetime import date, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qsl

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import AlertPreferences, Case, ReminderSent, SavedSearch, SavedSearchMatch, User, utcnow
from ..models.cases import Status
from ..permissions import visible_cases_clause
from .mail import send_mail

DEFAULTS = SimpleNamespace(saved_search_digest=True, reply_reminders=True, integrity_alerts=True)
LOOKBACK_DAYS = 2  # the hourly check looks this far back, so a day's outage loses no match
MAX_MATCHES_PER_CHECK = 500
REMINDER_DAYS_AHEAD = 3


def preferences(user: User) -> AlertPreferences | SimpleNamespace:
    """The user's choices; the defaults (every alert on) until they save the form."""
    return db.session.get(AlertPreferences, user.id) or DEFAULTS


def case_line(case: Case) -> str:
    url = f"{current_app.config['APP_URL']}/cases/{case.reference}"
    return (f"  {case.reference}  {case.business.name} · {case.category_label} · received "
            f"{case.date_received:%Y-%m-%d}\n    {url}")


# --- Saved searches: hourly check, daily digest -----------------------------------------------


def check_saved_searches() -> str:
    """Record the cases filed since each saved search was made (looking back LOOKBACK_DAYS) that
    it finds now, among the cases its owner may open. Matches already recorded are skipped."""
    from ..search import get_backend
    from ..search.requests import request_from_args

    backend = get_backend()
    since = utcnow() - timedelta(days=LOOKBACK_DAYS)
    found = 0
    searches = db.session.scalars(select(SavedSearch).join(User, User.id == SavedSearch.user_id)
                                  .where(User.active.is_(True)).order_by(SavedSearch.id)).all()
    for saved in searches:
        user = db.session.get(User, saved.user_id)
        request = request_from_args(MultiDict(parse_qsl(saved.query_string)))
        request.created_after = max(saved.created_at, since)
        request.sort, request.per_page = "newest", 100
        known = set(db.session.scalars(select(SavedSearchMatch.case_id)
                                       .where(SavedSearchMatch.saved_search_id == saved.id)))
        for page in range(1, MAX_MATCHES_PER_CHECK // request.per_page + 1):
            request.page = page
            results = backend.search(request, user)
            for hit in results.hits:
                if hit.case_id not in known:
                    known.add(hit.case_id)
                    db.session.add(SavedSearchMatch(saved_search_id=saved.id, case_id=hit.case_id))
                    found += 1
            if page * request.per_page >= results.total:
                break
        db.session.commit()
    return f"{len(searches)} saved searches checked, {found} new matches"


def send_digests() -> str:
    """One e-mail per user with the matches of their saved searches not mailed yet."""
    pending = db.session.execute(
        select(SavedSearchMatch, SavedSearch, User)
        .join(SavedSearch, SavedSearch.id == SavedSearchMatch.saved_search_id)
        .join(User, User.id == SavedSearch.user_id)
        .where(SavedSearchMatch.mailed_at.is_(None))
        .order_by(User.id, SavedSearch.name, SavedSearchMatch.case_id)).all()
    by_user: dict[int, list] = defaultdict(list)
    for match, saved, user in pending:
        by_user[user.id].append((match, saved))
    sent = 0
    for user_id, items in by_user.items():
        user = db.session.get(User, user_id)
        if user.active and preferences(user).saved_search_digest:
            visible = set(db.session.scalars(select(Case.id).where(
                Case.id.in_([match.case_id for match, _ in items]), Case.merged_into_id.is_(None),
                visible_cases_clause(user))))
            sections: dict[str, list[str]] = defaultdict(list)
            for match, saved in items:
                if match.case_id in visible:
                    sections[saved.name].append(case_line(db.session.get(Case, match.case_id)))
            if sections:
                count = sum(len(lines) for lines in sections.values())
                body = "\n\n".join(f"“{name}”: {len(lines)} new\n" + "\n".join(lines)
                                   for name, lines in sections.items())
                send_mail(user.email, f"{count} new complaint{'s' if count != 1 else ''} match your saved searches",
                          f"Hello {user.display_name},\n\nNew complaints match your saved searches:\n\n{body}\n\n"
                          f"Choose which e-mails you get: {current_app.config['APP_URL']}/account/alerts\n")
                sent += 1
        now = utcnow()
        for match, _ in items:  # mailed, or not wanted: either way not kept for a later digest
            match.mailed_at = now
        db.session.commit()
    return f"{sent} digests sent"


# --- Right of reply --------------------------------------------------------------------------


def send_reply_reminders(today: date | None = None) -> str:
    """Tell the reporter who filed each case and its assignee when a business's right-of-reply
    deadline is within REMINDER_DAYS_AHEAD days, and when it has passed unanswered; each once."""
    today = today or date.today()
    cases = db.session.scalars(select(Case).where(
        Case.status == Status.AWAITING_RESPONSE.value, Case.response_received_on.is_(None),
        Case.response_due_on.is_not(None), Case.merged_into_id.is_(None),
        Case.response_due_on <= today + timedelta(days=REMINDER_DAYS_AHEAD)).order_by(Case.response_due_on)).all()
    to_send: dict[int, list[tuple[str, Case]]] = defaultdict(list)
    for case in cases:
        kind = "overdue" if case.response_due_on < today else "due_soon"
        for user in {case.created_by, case.assigned_to} - {None}:
            if not user.active or not preferences(user).reply_reminders:
                continue
            already = db.session.scalar(select(ReminderSent.id).where(
                ReminderSent.case_id == case.id, ReminderSent.user_id == user.id, ReminderSent.kind == kind,
                ReminderSent.due_on == case.response_due_on))
            if already is None:
                to_send[user.id].append((kind, case))
    for user_id, items in to_send.items():
        user = db.session.get(User, user_id)
        parts = []
        for kind, title in (("overdue", "Overdue (no reply recorded)"),
                            ("due_soon", f"Due within {REMINDER_DAYS_AHEAD} days")):
            lines = [f"{case_line(case)}\n    reply due {case.response_due_on:%Y-%m-%d}"
                     for k, case in items if k == kind]
            if lines:
                parts.append(f"{title}:\n" + "\n".join(lines))
        send_mail(user.email, f"Right of reply: {len(items)} deadline{'s' if len(items) != 1 else ''} to watch",
                  f"Hello {user.display_name},\n\nBusinesses' right-of-reply deadlines on your cases:\n\n"
                  + "\n\n".join(parts)
                  + f"\n\nChoose which e-mails you get: {current_app.config['APP_URL']}/account/alerts\n")
        for kind, case in items:
            db.session.add(ReminderSent(case_id=case.id, user_id=user.id, kind=kind, due_on=case.response_due_on))
        db.session.commit()
    return f"{sum(len(items) for items in to_send.values())} reminders to {len(to_send)} people"


# --- Nightly integrity checks ----------------------------------------------------------------


def integrity_problems() -> tuple[list[str], str]:
    """Run `audit verify` and `evidence verify`; return the problems found and a summary."""
    from .. import audit
    from ..evidence.integrity import verify_all

    problems = []
    report = audit.verify_chain()
    if not report.ok:
        where = f" at event #{report.broken_seq}" if report.broken_seq else ""
        problems.append(f"Audit trail BROKEN{where}: {report.problem}.")
    checked, evidence_problems = verify_all()
    problems.extend(problem.message_without_name for problem in evidence_problems)
    return problems, f"{report.checked} audit events and {checked} evidence files checked"


def alert_admins(subject: str, body: str) -> int:
    admins = db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))
                                .order_by(User.id)).all()
    sent = 0
    for admin in admins:
        if preferences(admin).integrity_alerts:
            send_mail(admin.email, subject, body)
            sent += 1
    return sent
