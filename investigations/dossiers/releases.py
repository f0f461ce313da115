"""Releasing parts of a file to outside dossiers when its complainant agreed to that referral."""
from .. import audit
from ..models import User, utcnow
from ..models.evidence import RELEASE_PARTS, Evidence, EvidenceRelease


def release_parts(item: Evidence, parts: list[str], basis: str, actor: User) -> None:
    """Record that outside dossiers may show these parts of `item`; the caller commits."""
    for part in parts:
        if part not in RELEASE_PARTS:
            raise ValueError(part)
        existing = item.released(part)
        if existing is None:
            item.releases.append(EvidenceRelease(part=part, basis=basis, released_by=actor))
        else:
            existing.basis, existing.released_by, existing.released_at = basis, actor, utcnow()
    audit.record("evidence.release", item, actor=actor, parts=parts, basis=basis, case=item.case.reference)


def withdraw_release(item: Evidence, part: str, actor: User) -> None:
    release = item.released(part)
    item.releases.remove(release)
    audit.record("evidence.release_withdrawn", item, actor=actor, part=part, case=item.case.reference)
