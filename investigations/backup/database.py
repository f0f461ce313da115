"""What the backup needs to know of the app's database, whichever engine it runs on: its kind,
what a snapshot of it holds, its migrations, and what a restore would replace.

The engine-specific copying is in sqlite.py and postgres.py."""
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import inspect, text

from ..extensions import db
from .errors import BackupError

DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}

# (label in messages, table): what the manifest counts and what makes a database "not empty".
COUNTED = [("cases", "cases"), ("evidence records", "evidence"), ("dossiers", "dossiers"),
           ("accounts", "users"), ("businesses", "businesses"), ("timeline entries", "timeline_entries"),
           ("audit events", "audit_events")]
NOT_EMPTY_IF_ANY = ("cases", "evidence", "dossiers", "users", "businesses", "audit_events")
_SINGULAR = {"cases": "case", "evidence records": "evidence record", "dossiers": "dossier", "accounts": "account",
             "businesses": "business", "timeline entries": "timeline entry", "audit events": "audit event",
             "files": "file"}


def database_kind() -> str:
    kind = db.engine.dialect.name
    if kind not in DATABASE_FILES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {kind}.")
    return kind


def database_label() -> str:
    return db.engine.url.render_as_string(hide_password=True)


def migration_script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(current_app.extensions["migrate"].directory)


def migration_heads() -> list[str]:
    return sorted(migration_script().get_heads())


def _plural(count: int, label: str) -> str:
    return f"1 {_SINGULAR.get(label, label)}" if count == 1 else f"{count} {label}"


def describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(_plural(counts.get(label, 0), label) for label, _ in COUNTED if label in counts)


@dataclass
class SnapshotFacts:
    """What the backed-up database says: counts, schema revision, audit chain head, and the files it needs."""

    counts: dict[str, int]
    migration_revision: str | None
    chain_seq: int
    chain_hash: str
    evidence: dict[str, int]  # sha256 -> size, one per distinct file
    photos: set[str]  # sha256 of files that have a thumbnail and print copy
    # (id, sha256, size) of the PDFs the rows say exist, by kind: "dossier" (issued), "letter" (sent)
    numbered: dict[str, list[tuple[int, str, int | None]]]


# The tables a snapshot holds. A backup made before a table's migration lacks it (and its files).
_TABLES_SQL = {"sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
               "postgresql": "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"}
_NUMBERED_SQL = {
    "dossier": ("dossiers", "SELECT id, sha256, size FROM dossiers WHERE state = 'ready' AND sha256 IS NOT NULL"),
    "letter": ("reply_letters", "SELECT id, pdf_sha256, pdf_size FROM reply_letters WHERE pdf_sha256 IS NOT NULL"),
}


def read_facts(rows: Callable[[str], list], kind: str) -> SnapshotFacts:
    """Read the facts of a snapshot through `rows(sql)`, which runs a query inside that snapshot of a
    database of `kind` ("sqlite", "postgresql")."""
    tables = {row[0] for row in rows(_TABLES_SQL[kind])}
    counts = {label: int(rows(f"SELECT COUNT(*) FROM {table}")[0][0]) for label, table in COUNTED}
    revisions = [row[0] for row in rows("SELECT version_num FROM alembic_version")]
    head = rows("SELECT seq, last_hash FROM audit_chain_head WHERE id = 1")
    evidence, photos = {}, set()
    for sha256, size, has_thumbnail in rows("SELECT sha256, size, has_thumbnail FROM evidence"):
        evidence[sha256] = int(size)
        if has_thumbnail:
            photos.add(sha256)
    if "intake_files" in tables:  # files of public submissions: in the evidence store, not yet evidence rows
        for sha256, size in rows("SELECT sha256, size FROM intake_files WHERE evidence_id IS NULL"):
            evidence.setdefault(sha256, int(size))
    numbered = {name: [(int(i), sha, size) for i, sha, size in rows(f"{sql} ORDER BY id")] if table in tables else []
                for name, (table, sql) in _NUMBERED_SQL.items()}
    return SnapshotFacts(counts, ",".join(sorted(revisions)) or None, int(head[0][0]) if head else 0,
                         head[0][1] if head else "", evidence, photos, numbered)


@dataclass
class ExistingData:
    """What the configured database holds now, before a restore replaces it."""

    where: str
    counts: dict[str, int]

    @property
    def empty(self) -> bool:
        return not any(self.counts.get(label) for label, table in COUNTED if table in NOT_EMPTY_IF_ANY)

    def describe(self) -> str:
        return describe_counts(self.counts) if self.counts else "no tables yet"


def existing_data() -> ExistingData:
    tables = set(inspect(db.engine).get_table_names())
    counts = {}
    with db.engine.connect() as connection:
        for label, table in COUNTED:
            if table in tables:
                counts[label] = int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    db.engine.dispose()
    return ExistingData(database_label(), counts)
