"""The newsroom's impact, counted over a period: money recovered (per currency, never added across
currencies), outcomes by kind, days from complaint to outcome, stories, and the businesses that
returned the most money. The dashboard and the impact report both read these.

Every figure counts only the cases `user` may see, duplicates merged into another case left out.
Sums and counts are made by the database per day (GROUP BY the outcome's date and currency), and
put into months and years here, so the queries read the same on SQLite and PostgreSQL.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from statistics import median

from sqlalchemy import func, select

from ..extensions import db
from ..models import Business, Case, CaseOutcome, Story, User
from ..models.outcomes import OUTCOME_KINDS, case_stories
from ..permissions import visible_cases_clause

CENT = Decimal("0.01")
TOP_BUSINESSES = 10


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both included."""

    start: date
    end: date
    label: str = ""

    def months(self) -> list[date]:
        """The first day of each month the period touches."""
        months, month = [], date(self.start.year, self.start.month, 1)
        while month <= self.end:
            months.append(month)
            month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        return months


def month_end(month: date) -> date:
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def quarter_period(year: int, quarter: int) -> Period:
    start = date(year, 3 * quarter - 2, 1)
    return Period(start, month_end(date(year, 3 * quarter, 1)), f"Q{quarter} {year}")


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), str(year))


def last_months(today: date, months: int = 12) -> Period:
    """The last `months` months up to `today`, the current month included."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return Period(date(index // 12, index % 12 + 1, 1), today, f"the last {months} months")


def _counted(user: User) -> tuple:
    return visible_cases_clause(user), Case.merged_into_id.is_(None)


def _cents(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


@dataclass
class MoneyTotal:
    currency: str
    amount: Decimal
    cases: int


@dataclass
class Impact:
    """The figures of one period."""

    period: Period
    outcomes: int  # cases whose outcome falls in the period
    money: list[MoneyTotal]  # per currency, largest number of cases first
    amount_unknown: int  # money came back, amount not known (the CFPB's "monetary relief")
    by_kind: list[tuple[str, str, int]]  # (kind, label, cases), most first
    median_days: float | None  # from the complaint's receipt to its outcome
    money_per_month: dict[str, list[tuple[date, Decimal]]]  # currency -> (month, amount), every month
    stories_per_month: list[tuple[date, int]]
    stories: list[Story]
    top_businesses: dict[str, list[tuple[Business, Decimal]]] = field(default_factory=dict)  # per currency

    @property
    def story_count(self) -> int:
        return len(self.stories)

    @property
    def money_cases(self) -> int:
        return sum(total.cases for total in self.money) + self.amount_unknown


def money_rows(user: User, period: Period | None = None) -> list[tuple[date, str, Decimal, int]]:
    """(outcome date, currency, money recovered, cases) per day and currency, amounts above zero only."""
    query = (select(CaseOutcome.outcome_on, CaseOutcome.currency, func.sum(CaseOutcome.money_recovered),
                    func.count(CaseOutcome.id))
             .join(Case, Case.id == CaseOutcome.case_id)
             .where(*_counted(user), CaseOutcome.money_recovered > 0, CaseOutcome.currency.is_not(None))
             .group_by(CaseOutcome.outcome_on, CaseOutcome.currency))
    if period is not None:
        query = query.where(CaseOutcome.outcome_on >= period.start, CaseOutcome.outcome_on <= period.end)
    return [(day, currency, _cents(total), n) for day, currency, total, n in db.session.execute(query)]


def money_per_year(user: User) -> list[tuple[int, dict[str, Decimal]]]:
    """(year, {currency: money recovered}) for every year with money recovered, newest first."""
    years: dict[int, dict[str, Decimal]] = {}
    for day, currency, total, _n in money_rows(user):
        per_currency = years.setdefault(day.year, {})
        per_currency[currency] = per_currency.get(currency, Decimal("0.00")) + total
    return [(year, dict(sorted(years[year].items()))) for year in sorted(years, reverse=True)]


def impact(user: User, period: Period) -> Impact:
    """Every figure of `period` for `user`."""
    in_period = (CaseOutcome.outcome_on >= period.start, CaseOutcome.outcome_on <= period.end)
    months = period.months()
    totals: dict[str, MoneyTotal] = {}
    per_month: dict[str, dict[date, Decimal]] = {}
    for day, currency, amount, n in money_rows(user, period):
        total = totals.setdefault(currency, MoneyTotal(currency, Decimal("0.00"), 0))
        total.amount += amount
        total.cases += n
        month = date(day.year, day.month, 1)
        series = per_month.setdefault(currency, dict.fromkeys(months, Decimal("0.00")))
        series[month] += amount

    kinds: dict[str, int] = {}
    unknown = 0
    for kind, amount_unknown, n in db.session.execute(
            select(CaseOutcome.kind, CaseOutcome.amount_unknown, func.count(CaseOutcome.id))
            .join(Case, Case.id == CaseOutcome.case_id).where(*_counted(user), *in_period)
            .group_by(CaseOutcome.kind, CaseOutcome.amount_unknown)):
        kinds[kind] = kinds.get(kind, 0) + n
        unknown += n if amount_unknown else 0

    days = []
    for received, outcome_on, n in db.session.execute(
            select(Case.date_received, CaseOutcome.outcome_on, func.count(CaseOutcome.id))
            .join(Case, Case.id == CaseOutcome.case_id).where(*_counted(user), *in_period)
            .group_by(Case.date_received, CaseOutcome.outcome_on)):
        days += [(outcome_on - received).days] * n

    stories = stories_in(user, period)
    story_months = dict.fromkeys(months, 0)
    for story in stories:
        story_months[date(story.published_on.year, story.published_on.month, 1)] += 1

    return Impact(
        period=period, outcomes=sum(kinds.values()),
        money=sorted(totals.values(), key=lambda t: (-t.cases, t.currency)), amount_unknown=unknown,
        by_kind=sorted(((k, OUTCOME_KINDS.get(k, k), n) for k, n in kinds.items()), key=lambda r: (-r[2], r[1])),
        median_days=median(days) if days else None,
        money_per_month={currency: list(series.items()) for currency, series in sorted(per_month.items())},
        stories_per_month=list(story_months.items()), stories=stories,
        top_businesses=top_money_businesses(user, period),
    )


def stories_in(user: User, period: Period) -> list[Story]:
    """Stories published in the period about at least one case `user` may see, newest first."""
    about_visible = (select(case_stories.c.story_id).join(Case, Case.id == case_stories.c.case_id)
                     .where(*_counted(user)))
    return list(db.session.scalars(
        select(Story).where(Story.id.in_(about_visible), Story.published_on >= period.start,
                            Story.published_on <= period.end)
        .order_by(Story.published_on.desc(), Story.id.desc())))


def top_money_businesses(user: User, period: Period, limit: int = TOP_BUSINESSES) -> dict[str, list]:
    """Per currency, the businesses that returned the most money in the period, most first."""
    total = func.sum(CaseOutcome.money_recovered)
    rows = db.session.execute(
        select(Business, CaseOutcome.currency, total)
        .join(Case, Case.business_id == Business.id).join(CaseOutcome, CaseOutcome.case_id == Case.id)
        .where(*_counted(user), CaseOutcome.money_recovered > 0, CaseOutcome.currency.is_not(None),
               CaseOutcome.outcome_on >= period.start, CaseOutcome.outcome_on <= period.end)
        .group_by(Business.id, CaseOutcome.currency)).all()
    ranked: dict[str, list] = {}
    for business, currency, amount in rows:
        ranked.setdefault(currency, []).append((business, _cents(amount)))
    return {currency: sorted(found, key=lambda row: (-row[1], row[0].name))[:limit]
            for currency, found in sorted(ranked.items())}
