"""The data model, one module per area. Import models from here."""
from .api_tokens import ApiToken
from .audit import AuditChainHead, AuditEvent
from .businesses import Business, BusinessAlias
from .cases import Case, CaseReferenceCounter, CaseTag, TimelineEntry
from .common import utcnow
from .dossiers import Dossier, DossierState
from .evidence import Evidence, ExtractionState
from .intake import IntakeFile, IntakeNote, IntakeState, IntakeSubmission
from .jobs import AlertPreferences, Job, JobState, ReminderSent, SavedSearchMatch
from .outcomes import CaseOutcome, Story
from .replies import ReplyLetter
from .search import SavedSearch, SearchDocument, SearchQueueEntry
from .sessions import UserSession
from .settings import NewsroomSettings
from .users import Role, User

__all__ = [
    "AlertPreferences",
    "Job",
    "JobState",
    "ReminderSent",
    "SavedSearchMatch",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Business",
    "BusinessAlias",
    "Case",
    "CaseReferenceCounter",
    "CaseTag",
    "CaseOutcome",
    "Dossier",
    "DossierState",
    "Evidence",
    "IntakeFile",
    "IntakeNote",
    "IntakeState",
    "IntakeSubmission",
    "ExtractionState",
    "NewsroomSettings",
    "ReplyLetter",
    "Role",
    "SavedSearch",
    "SearchDocument",
    "SearchQueueEntry",
    "Story",
    "TimelineEntry",
    "User",
    "UserSession",
    "utcnow",
]
