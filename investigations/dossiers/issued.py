"""Issued dossiers as lists (on the case, the business and a page of their own), and what the
business export page shows before a dossier is made."""
from dataclasses import dataclass

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Business, Case, Dossier
from ..permissions import visible_dossiers_clause
from . import bp
from .audiences import (
    AUDIENCES,
    NEWS,
    Choices,
    WithheldField,
    case_content,
    left_out_once_per_kind,
    listed_contents,
    withheld_fields,
)
from .selection import Selection, load_for_full_text, printed_in_full

ON_PAGE = 10  # dossiers listed on a case's or a business's page (the rest on /dossiers/)


def issued_dossiers_query(user, case: Case | None = None, business: Business | None = None):
    query = (select(Dossier).where(visible_dossiers_clause(user))
             .options(selectinload(Dossier.case), selectinload(Dossier.business), selectinload(Dossier.issued_by))
             .order_by(Dossier.requested_at.desc(), Dossier.id.desc()))
    if case is not None:
        query = query.where(Dossier.case_id == case.id)
    if business is not None:
        query = query.where(Dossier.business_id == business.id)
    return query


@dataclass
class IssuedList:
    dossiers: list[Dossier]
    more: bool  # there are more than the page shows


@bp.app_template_global()
def issued_dossiers(case: Case | None = None, business: Business | None = None) -> IssuedList:
    """For the case's and the business's pages: their latest dossiers the viewer may see."""
    if not current_user.is_authenticated:
        return IssuedList([], False)
    found = list(db.session.scalars(issued_dossiers_query(current_user, case, business).limit(ON_PAGE + 1)))
    return IssuedList(found[:ON_PAGE], len(found) > ON_PAGE)


@bp.app_template_global()
def dossier_audience_label(key: str) -> str:
    return AUDIENCES[key].label if key in AUDIENCES else key


@dataclass
class BusinessPreview:
    left_out: dict[str, list[str]]  # audience -> what its dossier leaves out, once per kind
    withheld_by_case: list[tuple[Case, list[WithheldField]]]  # of the cases printed in full
    titles_withheld: int  # titles in the one-line list with something withheld
    in_full: list[Case]


def business_preview(cases: list[Case], selection: Selection, choices: Choices) -> BusinessPreview:
    in_full = printed_in_full(cases, selection)
    load_for_full_text(in_full)
    full_ids = {case.id for case in in_full}
    listed = [case for case in cases if case.id not in full_ids]
    left_out, news_full, news_listed = {}, [], []
    for key, audience in AUDIENCES.items():
        full = [case_content(case, audience, choices) for case in in_full]
        others = listed_contents(listed, audience, choices)
        left_out[key] = left_out_once_per_kind(full + others)
        if audience is NEWS:
            news_full, news_listed = full, others
    withheld = [(content.case, fields) for content in news_full if (fields := withheld_fields(content))]
    titles = sum(1 for content in news_listed if content.redactor.would_change(content.case.title))
    return BusinessPreview(left_out, withheld, titles, in_full)
