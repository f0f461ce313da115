"""Who a dossier is for decides what it shows: the one place for those rules.

Internal dossiers show everything. Dossiers for a news outlet or for the BBB / a regulator
leave out internal timeline entries and withdrawn evidence, name no staff, and name the
complainant only where the complainant consented to it. Without that consent, evidence is
listed by number and type (file names and captions often name people or places) and no
original file is attached (originals keep their names, contents and photo locations).
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

    @property
    def is_outside(self) -> bool:
        return not self.internal_entries


INTERNAL = Audience("internal", "Internal (newsroom only)", "Confidential: internal use only", True, True, True)
NEWS = Audience("news", "News outlet", "Confidential: for the named news outlet", False, False, False)
BBB = Audience("bbb", "BBB / regulator", "Confidential: for regulatory review", False, False, False)
AUDIENCES = {audience.key: audience for audience in (INTERNAL, NEWS, BBB)}

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

    @property
    def name_evidence(self) -> bool:
        """Whether file names and captions may be printed (they often name the complainant)."""
        return self.show_complainant

    @property
    def may_attach_originals(self) -> bool:
        return self.show_complainant

    def evidence_title(self, item: Evidence, number: int) -> str:
        return item.original_name if self.name_evidence else f"Evidence {number} ({item.type_label})"

    def entry_text(self, entry: TimelineEntry) -> str:
        """Outside recipients read what happened, not who in the newsroom did it."""
        if self.audience.is_outside and entry.kind == "created":
            return "Complaint received."
        return entry.body


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
        if evidence:
            omitted.append("evidence file names and captions (files are listed by number and type)")
    return CaseContent(case, audience, show_complainant, timeline, evidence, omitted)
