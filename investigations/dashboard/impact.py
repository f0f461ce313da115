"""The dashboard's impact section: money recovered, outcomes, stories, businesses that paid back.

Figures from outcomes/impact.py over the last 12 months (money per year: every year), drawn with
the dashboard's Figure (a chart and its table); every number links to the case list narrowed to
the cases behind it. Money is shown per currency, never added across currencies.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import url_for

from ..models import User
from ..outcomes.impact import Impact, Period, impact, last_months, money_per_year, month_end
from ..outcomes.queries import UNKNOWN_AMOUNT
from .stats import Figure, Row


def cases_behind(period: Period | None = None, **filters) -> str:
    """The case list of the cases behind a figure (every status: most have left the open list)."""
    if period is not None:
        filters.setdefault("outcome_from", period.start.isoformat())
        filters.setdefault("outcome_to", period.end.isoformat())
    return url_for("cases.index", status="all", **filters)


def month_label(month: date, with_year: bool = True) -> str:
    return f"{month:%b} {month.year}" if with_year else f"{month:%b}"


def _month(month: date) -> Period:
    return Period(month, month_end(month))


@dataclass
class ImpactPanel:
    figures: Impact
    cards: list[tuple[str, str, str]]  # (number, what it counts, link)
    charts: list[Figure]
    per_year: list[tuple[int, dict[str, Decimal]]]
    currencies: list[str]

    def year_link(self, year: int, currency: str) -> str:
        return cases_behind(Period(date(year, 1, 1), date(year, 12, 31)), outcome="money", recovered_in=currency)

    @property
    def empty(self) -> bool:
        return not self.figures.outcomes and not self.figures.stories and not self.per_year


def impact_panel(user: User, today: date) -> ImpactPanel:
    period = last_months(today)
    figures = impact(user, period)
    cards = [(f"{total.amount:,.2f} {total.currency}",
              f"recovered for complainants ({total.cases:,} case{'' if total.cases == 1 else 's'})",
              cases_behind(period, outcome="money", recovered_in=total.currency)) for total in figures.money]
    if figures.amount_unknown:
        cards.append((f"{figures.amount_unknown:,}", "with money back, amount unknown",
                      cases_behind(period, outcome="money", recovered_in=UNKNOWN_AMOUNT)))
    cards.append((f"{figures.outcomes:,}", f"outcome{'' if figures.outcomes == 1 else 's'} recorded",
                  cases_behind(period, outcome="any")))
    if figures.median_days is not None:
        cards.append((f"{figures.median_days:g}", "days from complaint to outcome (median)",
                      cases_behind(period, outcome="any")))
    cards.append((f"{figures.story_count:,}", f"stor{'y' if figures.story_count == 1 else 'ies'} published",
                  url_for("cases.index", status="all", story_from=period.start.isoformat(),
                          story_to=period.end.isoformat())))

    charts = []
    for currency, series in figures.money_per_month.items():
        charts.append(Figure(
            f"money-{currency.lower()}", f"Money recovered per month ({currency})",
            f"Money recovered for complainants per month in {currency}, {period.label}", "Month",
            f"Recovered ({currency})",
            [Row(month_label(month), amount, chart_label=month_label(month, with_year=False),
                 href=cases_behind(_month(month), outcome="money", recovered_in=currency))
             for month, amount in series],
            f"No money recovered in {currency}.", horizontal=False, time_series=True))
    charts.append(Figure(
        "outcomes", "Outcomes by kind", f"Outcomes recorded in {period.label}, by kind", "Outcome", "Cases",
        [Row(label, n, href=cases_behind(period, outcome=kind)) for kind, label, n in figures.by_kind],
        f"No outcomes recorded in {period.label}."))
    charts.append(Figure(
        "stories", "Stories per month", f"Stories published per month, {period.label}", "Month", "Stories",
        [Row(month_label(month), n, chart_label=month_label(month, with_year=False),
             href=url_for("cases.index", status="all", story_from=month.isoformat(),
                          story_to=month_end(month).isoformat()))
         for month, n in figures.stories_per_month],
        f"No stories published in {period.label}.", horizontal=False, time_series=True))
    for currency, businesses in figures.top_businesses.items():
        charts.append(Figure(
            f"paid-back-{currency.lower()}", f"Most money returned ({currency})",
            f"The businesses that returned the most money in {currency}, {period.label}", "Business",
            f"Returned ({currency})",
            [Row(business.name, amount, href=cases_behind(period, outcome="money", recovered_in=currency,
                                                          business=business.name))
             for business, amount in businesses],
            f"No money returned in {currency}."))
    per_year = money_per_year(user)
    currencies = sorted({currency for _year, amounts in per_year for currency in amounts})
    return ImpactPanel(figures, cards, charts, per_year, currencies)
