"""The dashboard's figures: SQL aggregates over the cases a user may see.

Every function counts only the cases `visible_cases_clause(user)` lets the user see, and leaves
out duplicates merged into another case (and, in lists of businesses, businesses merged into
another). Counting is done by the database (GROUP BY, COUNT of CASE expressions with date
bounds passed as parameters), so the queries read the same on SQLite and PostgreSQL and stay
fast on a large archive; weeks are put together in Python from at most 182 per-day counts.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import url_for
from markupsafe import Markup
from sqlalchemy import and_, case, func, select

from ..cases.queries import OPEN_STATUSES, overdue_clause
from ..charts import bar_chart, hbar_chart
from ..extensions import db
from ..models import Business, Case, User
from ..models.cases import CATEGORIES, Status
from ..permissions import visible_cases_clause

WEEKS = 26
TOP_BUSINESS_DAYS = 90
TOP_BUSINESS_LIMIT = 10
UNASSIGNED = "Unassigned"
# Open cases by time since the complaint was received: (label, age in days below which a case
# belongs to the bucket); the last bucket takes everything older.
AGE_BUCKETS = [
    ("Under a week", 7),
    ("1–4 weeks", 28),
    ("1–3 months", 91),
    ("3–12 months", 365),
    ("Over a year", None),
]


def counted(user: User) -> tuple:
    """The conditions of every dashboard figure: cases `user` may see, merged duplicates left out."""
    return visible_cases_clause(user), Case.merged_into_id.is_(None)


def _today(today: date | None) -> date:
    return today or date.today()


def week_start(day: date) -> date:
    """The Monday of the ISO week `day` falls in."""
    return day - timedelta(days=day.weekday())


def week_label(monday: date, with_year: bool = False) -> str:
    return f"{monday.day} {monday:%b}" + (f" {monday.year}" if with_year else "")


# --- The figures -------------------------------------------------------------------------


@dataclass
class Summary:
    """Counts over all the user's cases, from one query."""

    total: int
    open: int
    last_7_days: int
    overdue: int  # right-of-reply deadline passed, no response
    waiting: list[tuple[str, int]]  # open cases per AGE_BUCKETS label, youngest first


def _age_conditions(today: date) -> list:
    """For each of AGE_BUCKETS, the condition on date_received that puts a case in it."""
    conditions, newer_than = [], None
    for _label, below_days in AGE_BUCKETS:
        older = None if below_days is None else today - timedelta(days=below_days)
        bounds = [Case.date_received > older] if older is not None else []
        bounds += [Case.date_received <= newer_than] if newer_than is not None else []
        conditions.append(and_(*bounds))
        newer_than = older
    return conditions


def summary(user: User, today: date | None = None) -> Summary:
    today = _today(today)
    is_open = Case.status.in_(OPEN_STATUSES)
    row = db.session.execute(
        select(
            func.count(Case.id),
            func.count(case((is_open, 1))),
            func.count(case(((Case.date_received > today - timedelta(days=7)) & (Case.date_received <= today), 1))),
            func.count(case((overdue_clause(today), 1))),
            *[func.count(case((is_open & condition, 1))) for condition in _age_conditions(today)],
        ).where(*counted(user))
    ).one()
    total, open_, last_7_days, overdue, *ages = row
    return Summary(total, open_, last_7_days, overdue,
                   [(label, n) for (label, _), n in zip(AGE_BUCKETS, ages, strict=True)])


def waiting(user: User, today: date | None = None) -> list[tuple[str, int]]:
    """Open cases by how long since their complaint was received (AGE_BUCKETS), youngest first."""
    return summary(user, today).waiting


def overdue_count(user: User, today: date | None = None) -> int:
    """Cases whose business's right-of-reply deadline has passed unanswered."""
    return summary(user, today).overdue


def weekly_counts(user: User, today: date | None = None, weeks: int = WEEKS) -> list[tuple[date, int]]:
    """(Monday, complaints received that ISO week) for the last `weeks` weeks up to today, empty weeks included."""
    today = _today(today)
    first = week_start(today) - timedelta(weeks=weeks - 1)
    per_day = db.session.execute(
        select(Case.date_received, func.count(Case.id))
        .where(*counted(user), Case.date_received >= first, Case.date_received <= today)
        .group_by(Case.date_received)
    ).all()
    per_week = {first + timedelta(weeks=n): 0 for n in range(weeks)}
    for day, count in per_day:
        per_week[week_start(day)] += count
    return list(per_week.items())


@dataclass
class BusinessCount:
    id: int
    name: str
    slug: str
    count: int


def top_businesses(user: User, today: date | None = None, days: int = TOP_BUSINESS_DAYS,
                   limit: int = TOP_BUSINESS_LIMIT) -> list[BusinessCount]:
    """The businesses with the most complaints received in the last `days` days (today included)."""
    today = _today(today)
    count = func.count(Case.id)
    rows = db.session.execute(
        select(Business.id, Business.name, Business.slug, count)
        .join(Case, Case.business_id == Business.id)
        .where(*counted(user), Business.merged_into_id.is_(None),
               Case.date_received > today - timedelta(days=days), Case.date_received <= today)
        .group_by(Business.id, Business.name, Business.slug)
        .order_by(count.desc(), Business.name, Business.id)
        .limit(limit)
    ).all()
    return [BusinessCount(*row) for row in rows]


@dataclass
class Breakdown:
    by_category: list[tuple[str, str, int]]  # (category, label, cases), most first; empty categories left out
    by_status: list[tuple[str, str, int]]  # (status, label, cases) in workflow order, zeros included


def breakdown(user: User) -> Breakdown:
    """All the user's cases by category and by status, from one GROUP BY (at most categories × statuses rows)."""
    categories: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for category, status, n in db.session.execute(
        select(Case.category, Case.status, func.count(Case.id)).where(*counted(user))
        .group_by(Case.category, Case.status)
    ):
        categories[category] = categories.get(category, 0) + n
        statuses[status] = statuses.get(status, 0) + n
    labelled = [(key, CATEGORIES.get(key, key), n) for key, n in categories.items()]
    return Breakdown(
        by_category=sorted(labelled, key=lambda row: (-row[2], row[1])),
        by_status=[(status.value, status.label, statuses.get(status.value, 0)) for status in Status],
    )


def by_category(user: User) -> list[tuple[str, str, int]]:
    return breakdown(user).by_category


def by_status(user: User) -> list[tuple[str, str, int]]:
    return breakdown(user).by_status


def open_per_reporter(user: User) -> list[tuple[int | None, str, int]]:
    """(user id or None, name or "Unassigned", open cases assigned to them), most first."""
    count = func.count(Case.id)
    rows = db.session.execute(
        select(Case.assigned_to_id, User.display_name, count)
        .outerjoin(User, User.id == Case.assigned_to_id)
        .where(*counted(user), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.assigned_to_id, User.display_name)
    ).all()
    named = [(user_id, name if user_id is not None else UNASSIGNED, n) for user_id, name, n in rows]
    return sorted(named, key=lambda row: (-row[2], row[0] is None, row[1]))


@dataclass
class Rising:
    """A business whose complaints rose: `now` in the window against `before` in the baseline period."""

    id: int
    name: str
    slug: str
    now: int
    before: int
    window_days: int
    baseline_days: int

    @property
    def previous_rate(self) -> float:
        """Complaints the business used to get in a window's length, judged from the baseline period."""
        return self.before * self.window_days / self.baseline_days

    @property
    def ratio(self) -> float | None:
        """How many times the previous rate; None when there were no complaints before."""
        return self.now / self.previous_rate if self.before else None


def rising_businesses(user: User, today: date | None = None, *, min_complaints: int = 3, window_days: int = 30,
                      factor: float = 2.0, baseline_days: int = 180) -> list[Rising]:
    """Businesses with at least `min_complaints` complaints received in the last `window_days` days
    and at least `factor` times their previous rate: their complaints in the `baseline_days` days
    before the window, scaled to the window's length. No complaints before counts as rising.
    Largest increase first.
    """
    today = _today(today)
    window_start = today - timedelta(days=window_days)  # exclusive: the window is the last window_days days
    baseline_start = window_start - timedelta(days=baseline_days)
    now = func.count(case((Case.date_received > window_start, 1)))
    before = func.count(case((Case.date_received <= window_start, 1)))
    rows = db.session.execute(
        select(Business.id, Business.name, Business.slug, now, before)
        .join(Case, Case.business_id == Business.id)
        .where(*counted(user), Business.merged_into_id.is_(None),
               Case.date_received > baseline_start, Case.date_received <= today)
        .group_by(Business.id, Business.name, Business.slug)
        .having(now >= max(min_complaints, 1))
    ).all()
    rising = [
        Rising(id_, name, slug, n_now, n_before, window_days, baseline_days)
        for id_, name, slug, n_now, n_before in rows
        # now >= factor * before * window / baseline, multiplied out to keep it exact
        if n_now * baseline_days >= factor * n_before * window_days
    ]
    return sorted(rising, key=lambda r: (-(r.now - r.previous_rate), r.name, r.id))


def rising_settings(config) -> dict:
    return {"min_complaints": config["RISING_MIN_COMPLAINTS"], "window_days": config["RISING_WINDOW_DAYS"],
            "factor": config["RISING_FACTOR"], "baseline_days": config["RISING_BASELINE_DAYS"]}


# --- The page ---------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    value: int | Decimal
    href: str | None = None
    chart_label: str | None = None  # a shorter label under the bar, where the table's is long
    rising: bool = False


@dataclass
class Figure:
    """One chart with its table: the same rows drawn as bars and listed for screen readers."""

    key: str
    heading: str
    description: str  # the chart's accessible name
    label_header: str
    value_header: str
    rows: list[Row]
    empty_text: str
    horizontal: bool = True
    wide: bool = False
    time_series: bool = False
    notes: list[Markup] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(row.value for row in self.rows)

    def svg(self) -> Markup:
        labels = [row.chart_label or row.label for row in self.rows]
        # Money (Decimal) is drawn to the whole unit; the table keeps the cents.
        values = [int(row.value.to_integral_value(ROUND_HALF_UP)) if isinstance(row.value, Decimal) else row.value
                  for row in self.rows]
        if self.horizontal:
            highlight = {index for index, row in enumerate(self.rows) if row.rising}
            return hbar_chart(labels, values, self.description, width=560, highlight=highlight)
        return bar_chart(labels, values, self.description, width=960 if self.wide else 560,
                         label_latest=self.time_series)


@dataclass
class Dashboard:
    today: date
    summary: Summary
    figures: list[Figure]
    rising: list[Rising]
    settings: dict

    @property
    def empty(self) -> bool:
        return self.summary.total == 0


def _cases_url(**filters) -> str:
    return url_for("cases.index", **filters)


def build_dashboard(user: User, config, today: date | None = None) -> Dashboard:
    """Every figure of the dashboard for `user` (needs an app context, for links)."""
    today = _today(today)
    settings = rising_settings(config)
    head = summary(user, today)
    if head.total == 0:
        return Dashboard(today, head, [], [], settings)
    rising = rising_businesses(user, today, **settings)
    rising_ids = {r.id for r in rising}

    weeks = weekly_counts(user, today)
    counts = breakdown(user)
    top = top_businesses(user, today)
    this_week = Markup("The week of {} is still under way.").format(week_label(weeks[-1][0], with_year=True))
    red_bars = [Markup("Red bars: businesses flagged as rising.")] if any(b.id in rising_ids for b in top) else []
    figures = [
        Figure("weekly", "New complaints per week",
               f"New complaints per week, the last {WEEKS} weeks (weeks starting on Monday)",
               "Week starting", "Complaints",
               [Row(week_label(monday, with_year=True), n, chart_label=week_label(monday)) for monday, n in weeks],
               f"No complaints received in the last {WEEKS} weeks.", horizontal=False, wide=True, time_series=True,
               notes=[this_week]),
        Figure("businesses", f"Most complaints in the last {TOP_BUSINESS_DAYS} days",
               f"The businesses with the most complaints received in the last {TOP_BUSINESS_DAYS} days",
               "Business", "Complaints",
               [Row(b.name, b.count, href=url_for("businesses.detail", slug=b.slug), rising=b.id in rising_ids)
                for b in top],
               f"No complaints received in the last {TOP_BUSINESS_DAYS} days.", notes=red_bars),
        Figure("category", "Complaints by category", "All complaints by category", "Category", "Complaints",
               [Row(label, n, href=_cases_url(category=key)) for key, label, n in counts.by_category],
               "No complaints yet."),
        Figure("status", "Complaints by status", "All complaints by status", "Status", "Complaints",
               [Row(label, n, href=_cases_url(status=key)) for key, label, n in counts.by_status],
               "No complaints yet."),
        Figure("reporters", "Open cases per reporter", "Open cases by the reporter they are assigned to",
               "Assigned to", "Open cases",
               [Row(name, n, href=_cases_url(status="open", assignee=user_id if user_id is not None else "none"))
                for user_id, name, n in open_per_reporter(user)],
               "No open cases."),
        Figure("waiting", "How long open cases have been waiting",
               "Open cases by time since the complaint was received", "Waiting since received", "Open cases",
               [Row(label, n) for label, n in head.waiting], "No open cases.", horizontal=False,
               notes=[_overdue_note(head.overdue)]),
    ]
    return Dashboard(today, head, figures, rising, settings)


def _overdue_note(overdue: int) -> Markup:
    if not overdue:
        return Markup("No business’s right-of-reply deadline has passed unanswered.")
    return Markup('<a href="{}">{:,} {}</a> past the business’s right-of-reply deadline, with no response.').format(
        _cases_url(overdue="y"), overdue, "case is" if overdue == 1 else "cases are")
