"""Checking that stored evidence is untampered: every file re-hashed against the SHA-256 its record
names (`flask evidence verify`, the nightly integrity check, and the check after a restore)."""
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import Evidence, IntakeFile
from .services import store


@dataclass
class VerifyProblem:
    sha256: str
    problem: str  # "missing" or "altered"
    record: str  # the record the file belongs to: "evidence #4 of C-2026-00012"
    name: str  # the file's name as sent, which may name people: not for e-mail

    @property
    def message(self) -> str:
        return f"{self.problem.upper()}: {self.record} “{self.name}”, expected SHA-256 {self.sha256}"

    @property
    def message_without_name(self) -> str:
        return f"{self.record[0].upper()}{self.record[1:]} is {self.problem.upper()} (expected SHA-256 {self.sha256})."


def verify_all(progress=None) -> tuple[int, list[VerifyProblem]]:
    """Re-hash every stored evidence file, and every file of a public submission not yet accepted
    as evidence; return (records checked, problems). Each stored object is hashed once."""
    evidence_store = store()
    problems, checked = [], 0
    hashes: dict[str, str | None] = {}

    def problem_with(sha256: str, size: int) -> str | None:
        nonlocal checked
        if sha256 not in hashes:
            try:
                hashes[sha256] = evidence_store.hash_of(sha256)
            except FileNotFoundError:
                hashes[sha256] = None
        checked += 1
        if progress:
            progress(size)
        actual = hashes[sha256]
        return "missing" if actual is None else "altered" if actual != sha256 else None

    for evidence in db.session.scalars(select(Evidence).order_by(Evidence.id)):
        if problem := problem_with(evidence.sha256, evidence.size):
            problems.append(VerifyProblem(evidence.sha256, problem, f"evidence #{evidence.id} of "
                                          f"{evidence.case.reference}", evidence.original_name))
    for item in db.session.scalars(select(IntakeFile).where(IntakeFile.evidence_id.is_(None))
                                   .order_by(IntakeFile.id)):
        if problem := problem_with(item.sha256, item.size):
            problems.append(VerifyProblem(item.sha256, problem, f"file #{item.id} of public submission "
                                          f"#{item.submission_id} (not yet accepted)", item.original_name))
    return checked, problems


def verify_total_bytes() -> int:
    """The bytes verify_all reads, for its progress bar."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Evidence.size), 0)))) + int(db.session.scalar(
        select(func.coalesce(func.sum(IntakeFile.size), 0)).where(IntakeFile.evidence_id.is_(None))))
