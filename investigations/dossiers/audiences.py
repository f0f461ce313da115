"""Who a dossier is for decides what it shows: the one place for those rules.

Internal dossiers show everything. Dossiers for a news outlet or for the BBB / a regulator
leave out internal timeline entries and withdrawn evidence, and name the complainant only
where the complainant consented to it.
"""
from dataclasses import dataclass, field

from ..models import Case, Evidence, TimelineEntry


@dataclass(frozen=True)
class Audience:
    key: str
    label: str
    confidentiality: str  # printed in every page's header
    internal_entries: bool
    withdrawn_evidence: bool
    complainant_without_consent: bool


INTERNAL = Audience("internal", "Internal (newsroom only)", "Confidential: internal use only", True, True, True)
NEWS = Audience("news", "News outlet", "Confidential: for the named news outlet", False, False, False)
BBB = Audience("bbb", "BBB / regulator", "Confidential: for regulatory review", False, False, False)
AUDIENCES = {audience.key: audience for audience in (INTERNAL, NEWS, BBB)}

WITHHELD = "identity withheld"


@dataclass
class CaseContent:
    """What one case's section of a dossier contains for one audience."""

    case: Case
    audience: Audience
    show_complainant: bool
    timeline: list[TimelineEntry]
    evidence: list[Evidence]
    omitted: list[str] = field(default_factory=list)  # said to the exporter before downloading

    @property
    def photos(self) -> list[Evidence]:
        return [item for item in self.evidence if item.has_thumbnail]


def case_content(case: Case, audience: Audience) -> CaseContent:
    timeline = sorted(case.timeline, key=lambda entry: (entry.occurred_at, entry.id))
    evidence = list(case.evidence)
    omitted = []
    if not audience.internal_entries:
        internal = [entry for entry in timeline if entry.internal]
        timeline = [entry for entry in timeline if not entry.internal]
        if internal:
            omitted.append(f"{len(internal)} internal timeline {'entry' if len(internal) == 1 else 'entries'}")
    if not audience.withdrawn_evidence:
        withdrawn = [item for item in evidence if item.is_withdrawn]
        evidence = [item for item in evidence if not item.is_withdrawn]
        if withdrawn:
            omitted.append(f"{len(withdrawn)} withdrawn evidence file{'' if len(withdrawn) == 1 else 's'}")
    show_complainant = audience.complainant_without_consent or case.consent_to_publish
    if not show_complainant:
        omitted.append("the complainant's name and contact details (no consent to be named)")
    return CaseContent(case, audience, show_complainant, timeline, evidence, omitted)
