"""The pattern a business dossier opens with: what kinds of complaints, how they stand, when they
came, how the business answered, and (for imported complaints) which issues they raise."""
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from ..businesses.services import ComplaintPattern, complaint_pattern
from ..models import Case
from ..models.cases import Status

TOP_ISSUES = 15
TOP_SUB_ISSUES = 5


@dataclass
class IssueCount:
    issue: str
    count: int
    sub_issues: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class ResponseFigures:
    asked: int  # cases in which the business was asked to respond
    answered: int
    overdue: int  # asked, unanswered, past the deadline
    median_days: float | None  # from asked to answered
    company_responses: dict[str, int]  # the CFPB's "company response" of imported complaints
    timely: int  # imported complaints the CFPB marks as answered in time
    timely_known: int

    @property
    def rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


@dataclass
class DossierPattern:
    basic: ComplaintPattern  # counts by category and status, months, amounts, the chart's data
    issues: list[IssueCount]
    other_issues: int  # cases whose issue is beyond the TOP_ISSUES listed
    without_issue: int
    responses: ResponseFigures

    def __getattr__(self, name):  # total, first, last, by_category, by_status, amounts, chart …
        return getattr(self.basic, name)


def _issues(cases: list[Case]) -> tuple[list[IssueCount], int, int]:
    by_issue: Counter = Counter()
    by_sub: dict[str, Counter] = {}
    without = 0
    for case in cases:
        issue = (getattr(case, "issue", None) or "").strip()
        if not issue:
            without += 1
            continue
        by_issue[issue] += 1
        sub_issue = (getattr(case, "sub_issue", None) or "").strip()
        if sub_issue:
            by_sub.setdefault(issue, Counter())[sub_issue] += 1
    listed = [IssueCount(issue, n, by_sub.get(issue, Counter()).most_common(TOP_SUB_ISSUES))
              for issue, n in by_issue.most_common(TOP_ISSUES)]
    return listed, sum(by_issue.values()) - sum(item.count for item in listed), without


def _responses(cases: list[Case], today: date) -> ResponseFigures:
    asked = [case for case in cases if case.response_requested_on]
    answered = [case for case in asked if case.response_received_on]
    days = [(case.response_received_on - case.response_requested_on).days for case in answered
            if case.response_received_on >= case.response_requested_on]
    overdue = sum(1 for case in asked if not case.response_received_on and case.status == Status.AWAITING_RESPONSE.value
                  and case.response_due_on and case.response_due_on < today)
    company = Counter(value for case in cases if (value := (getattr(case, "company_response", None) or "").strip()))
    timely_values = [str(value).strip().lower() for case in cases
                     if (value := getattr(case, "timely_response", None)) not in (None, "")]
    return ResponseFigures(
        asked=len(asked), answered=len(answered), overdue=overdue,
        median_days=statistics.median(days) if days else None, company_responses=dict(company.most_common()),
        timely=sum(1 for value in timely_values if value in ("yes", "true", "1")), timely_known=len(timely_values))


def dossier_pattern(cases: list[Case], today: date) -> DossierPattern:
    issues, other, without = _issues(cases)
    return DossierPattern(complaint_pattern(cases), issues, other, without, _responses(cases, today))
