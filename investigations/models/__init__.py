"""The data model, one module per area. Import models from here."""
from .audit import AuditChainHead, AuditEvent
from .businesses import Business, BusinessAlias
from .cases import Case, CaseReferenceCounter, CaseTag, TimelineEntry
from .common import utcnow
from .evidence import Evidence, ExtractionState
from .users import Role, User

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "Business",
    "BusinessAlias",
    "Case",
    "CaseReferenceCounter",
    "CaseTag",
    "Evidence",
    "ExtractionState",
    "Role",
    "TimelineEntry",
    "User",
    "utcnow",
]
