"""Who a dossier is for decides what it shows: the one place for those rules.

Internal dossiers show everything. Dossiers for a news outlet or for the BBB / a regulator
leave out internal timeline entries and withdrawn evidence, name no staff, and name a
complainant only where that complainant consented. Consent follows each item: a timeline entry
or file merged in from another case keeps the consent of the case it came from.

For outside audiences every printed text goes through a Redactor (redaction.py) built from the
identities of the complainants who did not consent, plus the words the editor chose to withhold.
A file whose complainant did not consent is listed by number and type (names and captions often
name people or places), its photo is left out unless the editor asks for photos, and its original
is not attached (originals keep their names, contents and photo locations) — each unless an
editor released that part on a recorded basis (EvidenceRelease).
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ..evidence.services import download_name
from ..models import Case, Evidence, TimelineEntry
from ..template_helpers import format_date, format_iso
from .redaction import NO_REDACTION, Identity, Redactor


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


@dataclass(frozen=True)
class Choices:
    """What the editor chose on the export page beyond the audience."""

    withheld_words: tuple[str, ...] = ()
    with_photos: bool = False  # photos of files whose complainant did not consent


NO_CHOICES = Choices()


def complainant_cases(case: Case) -> list[Case]:
    """The case and every case merged into it (directly or through another merge): each had a
    complainant whose identity may appear in what was moved over."""
    found, todo = [case], [case]
    while todo:
        current = todo.pop()
        for item in [*current.timeline, *current.evidence]:
            origin = item.origin_case
            if origin is not None and origin not in found:
                found.append(origin)
                todo.append(origin)
        for merged in _merged_into(current):
            if merged not in found:
                found.append(merged)
                todo.append(merged)
    return found


def _merged_into(case: Case) -> list[Case]:
    from sqlalchemy import select

    from ..extensions import db

    return list(db.session.scalars(select(Case).where(Case.merged_into_id == case.id)))


@dataclass
class CaseContent:
    """What one case's section of a dossier contains for one audience."""

    case: Case
    audience: Audience
    show_complainant: bool
    timeline: list[TimelineEntry]
    evidence: list[Evidence]
    redactor: Redactor = field(default_factory=Redactor)
    choices: Choices = field(default_factory=Choices)
    omitted: list[str] = field(default_factory=list)  # said to the exporter before downloading

    def text(self, value: str | None) -> str:
        """Any free text of the case as this audience may read it."""
        return self.redactor.redact(value) if self.audience.is_outside else (value or "")

    @property
    def title(self) -> str:
        return self.text(self.case.title)

    def _consented(self, item: Evidence) -> bool:
        return self.audience.complainant_without_consent or item.complainant_case.consent_to_publish

    def may_show(self, item: Evidence, part: str) -> bool:
        """Whether `part` ("caption", "file_name", "original") of a file may be shown to this audience."""
        return self._consented(item) or item.released(part) is not None

    def show_photo(self, item: Evidence) -> bool:
        return item.has_thumbnail and (self._consented(item) or self.choices.with_photos)

    @property
    def photos(self) -> list[Evidence]:
        return [item for item in self.evidence if self.show_photo(item)]

    @property
    def originals(self) -> list[Evidence]:
        return [item for item in self.evidence if self.may_show(item, "original")]

    def evidence_title(self, item: Evidence, number: int) -> str:
        if self.may_show(item, "file_name"):
            return self.text(item.original_name)
        return f"Evidence {number} ({item.type_label})"

    def attachment_name(self, item: Evidence, number: int) -> str:
        """The name an attached original carries: its safe download name, or a number and its type."""
        name = download_name(item)
        if self.may_show(item, "file_name"):
            return self.text(name)
        return f"evidence-{number}{Path(name).suffix}"

    def caption(self, item: Evidence) -> str:
        return self.text(item.caption) if item.caption and self.may_show(item, "caption") else ""

    def entry_text(self, entry: TimelineEntry) -> str:
        """Outside recipients read what happened, not who in the newsroom did it."""
        if self.audience.is_outside and entry.kind == "created":
            return "Complaint received."
        return self.text(entry.body)

    def entry_date(self, entry: TimelineEntry) -> date | datetime:
        return entry_date(entry, self.case)

    def entry_when(self, entry: TimelineEntry) -> str:
        when = self.entry_date(entry)
        return format_iso(when, "seconds") if isinstance(when, datetime) else when.isoformat()


IMPORTED_SOURCES = {"cfpb", "csv"}


def entry_date(entry: TimelineEntry, case: Case) -> date | datetime:
    """When an entry happened. An imported complaint was received on its date received (the source's
    own date), not when it was imported: its opening entry carries that date."""
    if entry.kind == "created" and (case.received_via == "import" or case.source in IMPORTED_SOURCES):
        return case.date_received
    return entry.occurred_at


def _timeline_order(case: Case):
    def key(entry: TimelineEntry):
        when = entry_date(entry, case)
        return (when if isinstance(when, datetime) else datetime(when.year, when.month, when.day), entry.id)
    return key


def case_content(case: Case, audience: Audience, choices: Choices = NO_CHOICES) -> CaseContent:
    timeline = sorted(case.timeline, key=_timeline_order(case))
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
    redactor = NO_REDACTION
    show_complainant = audience.complainant_without_consent or case.consent_to_publish
    if audience.is_outside:
        hidden = [other for other in complainant_cases(case) if not other.consent_to_publish]
        redactor = Redactor([Identity.of_case(other) for other in hidden], list(choices.withheld_words))
        if not show_complainant:
            omitted.append(COMPLAINANT_WITHHELD)
        if any(other is not case for other in hidden):
            omitted.append("the identity of the complainant of a case merged into this one (no consent)")
        if choices.withheld_words:
            omitted.append(f"{len(choices.withheld_words)} word{'s' if len(choices.withheld_words) > 1 else ''} "
                           f"you chose to withhold")
    content = CaseContent(case, audience, show_complainant, timeline, evidence, redactor, choices, omitted)
    unnamed = [item for item in evidence if not content.may_show(item, "file_name")]
    if unnamed:
        omitted.append(f"the names and captions of {len(unnamed)} evidence file{'s' if len(unnamed) > 1 else ''} "
                       f"(listed by number and type)")
    no_photo = [item for item in evidence if item.has_thumbnail and not content.show_photo(item)]
    if no_photo:
        omitted.append(f"{len(no_photo)} photo{'s' if len(no_photo) > 1 else ''} of a complainant who did not consent")
    return content


def _merged_map(cases: list[Case]) -> dict[int, list[Case]]:
    """For each case, the cases merged into it (directly or through another merge), in a few queries."""
    from sqlalchemy import select

    from ..extensions import db

    found: dict[int, list[Case]] = {case.id: [] for case in cases}
    frontier = {case.id: case.id for case in cases}  # a case's id -> the listed case it ends up in
    while frontier:
        ids, step = list(frontier), {}
        for start in range(0, len(ids), 5000):
            for merged in db.session.scalars(select(Case).where(Case.merged_into_id.in_(ids[start:start + 5000]))):
                root = frontier[merged.merged_into_id]
                if merged.id not in step and merged not in found[root]:
                    found[root].append(merged)
                    step[merged.id] = root
        frontier = step
    return found


def listed_contents(cases: list[Case], audience: Audience, choices: Choices = NO_CHOICES) -> list[CaseContent]:
    """Light CaseContents for the one-line table of a business dossier: only the case's own fields
    (its title, above all) are printed of them, so no timeline or evidence is read."""
    merged = _merged_map(cases) if audience.is_outside else {}
    contents = []
    for case in cases:
        show_complainant = audience.complainant_without_consent or case.consent_to_publish
        redactor, omitted = NO_REDACTION, []
        if audience.is_outside:
            hidden = [other for other in [case, *merged[case.id]] if not other.consent_to_publish]
            redactor = Redactor([Identity.of_case(other) for other in hidden], list(choices.withheld_words))
            if not show_complainant:
                omitted.append(COMPLAINANT_WITHHELD)
        contents.append(CaseContent(case, audience, show_complainant, [], [], redactor, choices, omitted))
    return contents


COMPLAINANT_WITHHELD = ("the complainant's name and contact details (no consent to be named), "
                        "also wherever they are written in the case's text")


def left_out_once_per_kind(contents: list[CaseContent]) -> list[str]:
    """What the dossier leaves out, said once per kind ("51 cases: …"), not once per case."""
    counts: dict[str, int] = {}
    for content in contents:
        for item in content.omitted:
            counts[item] = counts.get(item, 0) + 1
    if len(contents) == 1:
        return list(counts)
    return [f"{n} case{'s' if n > 1 else ''}: {item}" for item, n in counts.items()]


@dataclass
class WithheldField:
    """One field of the case as the export page shows it: where, and the text as it will print."""

    label: str
    redacted: str
    matches: int


def withheld_fields(content: CaseContent) -> list[WithheldField]:
    """Every printed field in which something will be withheld, for the export page's preview."""
    case, found = content.case, []

    def check(label: str, value: str | None):
        if value and content.audience.is_outside:
            spans = content.redactor.spans(value)
            if spans:
                found.append(WithheldField(label, content.redactor.redact(value), len(spans)))

    check("Title", case.title)
    check("The complaint", case.narrative)
    check("Resolution sought", case.desired_resolution)
    check("The business's response", case.business_response)
    for entry in content.timeline:
        if entry.kind != "created":
            check(f"Timeline, {entry.kind_label.lower()} of {format_date(content.entry_date(entry))}", entry.body)
    for number, item in enumerate(content.evidence, start=1):
        if content.may_show(item, "file_name"):
            check(f"Evidence {number}, file name", item.original_name)
        if item.caption and content.may_show(item, "caption"):
            check(f"Evidence {number}, caption", item.caption)
    return found
