"""The impact report: a PDF of one quarter or year for the newsroom's management or its annual
report. Headline figures, charts, the stories published, the businesses that returned the most
money, and a few cases an editor chose to feature.

It is made with the dossiers' machinery (dossiers/render.py: the same fetcher, fonts and PDF/A
output) and goes outside the newsroom, so a featured case prints the complainant's identity only
with consent, and its texts pass through the outside dossiers' redaction (dossiers/audiences.py,
dossiers/redaction.py). Each report issued is an audit event with the SHA-256 of its PDF.
"""
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .. import audit
from ..charts import bar_chart, hbar_chart
from ..dossiers.audiences import NEWS, case_content
from ..dossiers.render import DossierError, render_pdf
from ..extensions import db
from ..forms import StrippedForm, choices
from ..models import Case, CaseOutcome, User, utcnow
from ..newsroom import current_newsroom
from ..permissions import visible_cases_clause
from ..template_helpers import local_today
from .impact import Impact, Period, impact, quarter_period, year_period

FEATURED_MAX = 10
CANDIDATES_MAX = 60
EXCERPT = 700


class ReportError(RuntimeError):
    """No report could be made; the message says why."""


class ImpactReportForm(StrippedForm):
    year = SelectField("Year")
    quarter = SelectField("Period", choices=choices([("", "The whole year"), ("1", "1st quarter (Jan–Mar)"),
                                                      ("2", "2nd quarter (Apr–Jun)"), ("3", "3rd quarter (Jul–Sep)"),
                                                      ("4", "4th quarter (Oct–Dec)")]), validators=[Optional()])
    featured = SelectMultipleField("Cases to feature", validators=[Length(max=FEATURED_MAX, message=(
        f"Feature at most {FEATURED_MAX} cases."))], widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput())

    user: User | None = None

    def period(self) -> Period:
        year = int(self.year.data) if str(self.year.data or "").isdigit() else local_today().year
        quarter = self.quarter.data
        return quarter_period(year, int(quarter)) if quarter in ("1", "2", "3", "4") else year_period(year)

    def preview(self) -> Impact:
        return impact(self.user, self.period())


def build_report_form() -> ImpactReportForm:
    """The form, from the request (GET: the arguments, to preview a period; POST: the form)."""
    from flask import request
    from flask_login import current_user

    form = ImpactReportForm() if request.method == "POST" else ImpactReportForm(formdata=request.args or None,
                                                                                meta={"csrf": False})
    form.user = current_user._get_current_object()
    this_year = local_today().year
    form.year.choices = choices((str(y), str(y)) for y in range(this_year, this_year - 11, -1))
    if request.method != "POST" and form.year.data not in {choice.value for choice in form.year.choices}:
        form.year.data = str(this_year)  # POSTed, an unknown year is refused by the field
    form.featured.choices = choices((case.reference, f"{case.reference}: {case.title}")
                                    for case in candidate_cases(form.user, form.period()))
    return form


def candidate_cases(user: User, period: Period) -> list[Case]:
    """Cases whose outcome falls in the period, most money first (any currency), then latest."""
    return list(db.session.scalars(
        select(Case).join(CaseOutcome, CaseOutcome.case_id == Case.id)
        .where(visible_cases_clause(user), Case.merged_into_id.is_(None),
               CaseOutcome.outcome_on >= period.start, CaseOutcome.outcome_on <= period.end)
        .order_by(CaseOutcome.money_recovered.desc().nulls_last(), CaseOutcome.outcome_on.desc(), Case.id.desc())
        .limit(CANDIDATES_MAX)))


@dataclass
class FeaturedCase:
    """One case as the report prints it: texts redacted, identity only with consent."""

    case: Case
    title: str
    excerpt: str
    complainant: str

    @property
    def outcome(self) -> CaseOutcome:
        return self.case.outcome

    @property
    def days(self) -> int:
        return (self.outcome.outcome_on - self.case.date_received).days


def featured(cases: list[Case]) -> list[FeaturedCase]:
    shown = []
    for case in cases:
        content = case_content(case, NEWS)  # the outside dossiers' rules: consent and redaction
        narrative = content.text(case.narrative)
        excerpt = narrative if len(narrative) <= EXCERPT else narrative[:EXCERPT].rsplit(" ", 1)[0] + " …"
        complainant = case.complainant_name if content.show_complainant else "Complainant: identity withheld"
        shown.append(FeaturedCase(case, content.title, excerpt, complainant))
    return shown


def charts(figures: Impact) -> dict:
    money = {currency: bar_chart([f"{month:%b}" for month, _ in series],
                                 [int(amount) for _, amount in series],
                                 f"Money recovered per month in {currency}, {figures.period.label}", width=640,
                                 label_latest=True)
             for currency, series in figures.money_per_month.items()}
    kinds = hbar_chart([label for _, label, _ in figures.by_kind], [n for _, _, n in figures.by_kind],
                       f"Outcomes by kind, {figures.period.label}", width=640) if figures.by_kind else None
    stories = bar_chart([f"{month:%b}" for month, _ in figures.stories_per_month],
                        [n for _, n in figures.stories_per_month],
                        f"Stories per month, {figures.period.label}", width=640, label_latest=True)
    return {"money": money, "kinds": kinds, "stories": stories}


def issue_impact_report(form: ImpactReportForm, user: User) -> tuple[bytes, str]:
    """Render the report the form asks for; returns the PDF and its file name. Audited."""
    period = form.period()
    figures = impact(user, period)
    chosen = set(form.featured.data or [])
    cases = [case for case in candidate_cases(user, period) if case.reference in chosen]
    issued_at = utcnow()
    newsroom = current_newsroom()
    try:
        rendered = render_pdf("outcomes/impact_report.html", [], figures=figures, charts=charts(figures),
                              featured=featured(cases), newsroom=newsroom, issued_at=issued_at,
                              issued_by=newsroom.name)
    except DossierError as error:
        raise ReportError(str(error)) from error
    sha256 = hashlib.sha256(rendered.data).hexdigest()
    audit.record("impact.report", None, actor=user, period=period.label, start=period.start.isoformat(),
                 end=period.end.isoformat(), featured=[case.reference for case in cases], sha256=sha256,
                 pages=rendered.pages)
    name = f"impact-report-{period.label.replace(' ', '-')}.pdf"
    return rendered.data, name
