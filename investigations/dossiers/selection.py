"""Which cases a business dossier covers, and which of them it prints in full.

A business may have thousands of complaints; nobody reads a thousand cases in full. The dossier
shows the pattern of every case chosen (by date range, status and category), a one-line table of
them, and the full text of a few: the most recent (20 by default), or those tagged for it.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Business, Case, CaseTag
from ..models.cases import CATEGORIES, STATUS_LABELS, Status
from ..template_helpers import format_date

DEFAULT_FULL_CASES = 20
MAX_FULL_CASES = 200


@dataclass(frozen=True)
class Selection:
    date_from: date | None = None
    date_to: date | None = None
    statuses: tuple[str, ...] = ()  # empty: every status
    categories: tuple[str, ...] = ()  # empty: every category
    full_count: int = DEFAULT_FULL_CASES  # the most recent cases printed in full ...
    full_tag: str = ""  # ... or, when set, the cases with this tag

    def as_dict(self) -> dict:
        return {"date_from": self.date_from.isoformat() if self.date_from else None,
                "date_to": self.date_to.isoformat() if self.date_to else None,
                "statuses": list(self.statuses), "categories": list(self.categories),
                "full_count": self.full_count, "full_tag": self.full_tag}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Selection":
        if not data:
            return cls()
        return cls(date_from=date.fromisoformat(data["date_from"]) if data.get("date_from") else None,
                   date_to=date.fromisoformat(data["date_to"]) if data.get("date_to") else None,
                   statuses=tuple(data.get("statuses") or ()), categories=tuple(data.get("categories") or ()),
                   full_count=int(data.get("full_count", DEFAULT_FULL_CASES)), full_tag=data.get("full_tag") or "")

    def describe(self) -> list[str]:
        """What was chosen, in words, for the dossier's cover and the export page."""
        said = []
        if self.date_from or self.date_to:
            said.append(f"received {('from ' + format_date(self.date_from)) if self.date_from else ''}"
                        f"{' ' if self.date_from and self.date_to else ''}"
                        f"{('to ' + format_date(self.date_to)) if self.date_to else ''}")
        if self.statuses:
            said.append("status " + " or ".join(STATUS_LABELS[Status(s)] for s in self.statuses))
        if self.categories:
            said.append("kind " + " or ".join(CATEGORIES.get(c, c) for c in self.categories))
        return said

    def describe_full(self) -> str:
        if self.full_tag:
            return f"the cases tagged “{self.full_tag}”"
        if self.full_count == 0:
            return "no case"
        return f"the {self.full_count} most recent case{'s' if self.full_count != 1 else ''}"


EVERYTHING = Selection()


def chosen_cases(business: Business, selection: Selection) -> list[Case]:
    """The business's current cases that the selection covers, oldest first."""
    query = (select(Case).where(Case.business_id == business.id, Case.merged_into_id.is_(None))
             .options(selectinload(Case.tags), selectinload(Case.business))
             .order_by(Case.date_received, Case.id))
    if selection.date_from:
        query = query.where(Case.date_received >= selection.date_from)
    if selection.date_to:
        query = query.where(Case.date_received <= selection.date_to)
    if selection.statuses:
        query = query.where(Case.status.in_(selection.statuses))
    if selection.categories:
        query = query.where(Case.category.in_(selection.categories))
    return list(db.session.scalars(query))


def printed_in_full(cases: list[Case], selection: Selection) -> list[Case]:
    """Of the chosen cases, those whose full text the dossier prints, oldest first."""
    if selection.full_tag:
        tag = " ".join(selection.full_tag.split()).lower()
        chosen = {case.id for case in cases}
        businesses = {case.business_id for case in cases}
        tagged_ids = set(db.session.scalars(select(CaseTag.case_id).join(Case).where(
            CaseTag.name == tag, Case.business_id.in_(businesses)))) & chosen
        return [case for case in cases if case.id in tagged_ids]
    newest = sorted(cases, key=lambda case: (case.date_received, case.id), reverse=True)[:selection.full_count]
    return sorted(newest, key=lambda case: (case.date_received, case.id))


def load_for_full_text(cases: list[Case]) -> None:
    """Load in a few queries what printing a case in full reads (timeline, evidence and its releases)."""
    if not cases:
        return
    from ..models import Evidence, TimelineEntry

    ids = [case.id for case in cases]
    db.session.scalars(select(Case).where(Case.id.in_(ids)).options(
        selectinload(Case.timeline).selectinload(TimelineEntry.origin_case),
        selectinload(Case.evidence).selectinload(Evidence.releases),
        selectinload(Case.evidence).selectinload(Evidence.origin_case))).all()
