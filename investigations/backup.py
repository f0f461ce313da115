"""Backups: a consistent snapshot of the database, the evidence files and the dossiers, with a
manifest of SHA-256 hashes; verifying a backup; restoring one.

Layout of a backup directory:

    manifest.json                 what is in it, the hash and size of every file, counts, audit chain head
    database.sqlite3              SQLite: a copy made with SQLite's online backup API
    database.pgdump               PostgreSQL: pg_dump --format=custom
    evidence/objects/ab/cd/<sha256>            the evidence files referenced by the backed-up rows
    evidence/derived/ab/<sha256>-thumb.jpg     thumbnails and print copies of photos
    dossiers/dossier-<id>.pdf                  the dossiers the backed-up rows say were issued

Consistency while the app runs: the database is copied first, in one transaction (SQLite's
backup API reads one snapshot; on PostgreSQL pg_dump imports a snapshot exported by a
transaction that then also reads the list of files). The files to copy are read from that
snapshot, never from the live database, so every row in the backup has its file: the
evidence store is content-addressed and append-only (an object is linked into place before
its row is committed, and never changed), and a dossier file is written before its row says
it is ready. Files are hard-linked from the live directories when they share a filesystem,
else copied; either way each is hashed, and evidence objects must hash to their names.

Everything is written into DIR/.partial-<random>/ and moved into DIR at the end, the manifest
last, so an interrupted backup never has a manifest and never looks complete.
"""
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from .config import REPO_ROOT
from .extensions import db
from .storage import EvidenceStore, fsync_dir

FORMAT = "investigations-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024
MISSING_FILE_PATIENCE_SECONDS = 10.0  # over the whole backup: see _copy_evidence

# Every path a backup may contain; anything else in a manifest is refused (a restore writes
# files only where these say, so a doctored manifest cannot write outside the app's directories).
_ALLOWED_PATHS = [
    re.compile(r"database\.(sqlite3|pgdump)"),
    re.compile(r"evidence/objects/([0-9a-f]{2})/([0-9a-f]{2})/(?P<sha>\1\2[0-9a-f]{60})"),
    re.compile(r"evidence/derived/([0-9a-f]{2})/(?P<sha>\1[0-9a-f]{62})-(thumb|print)\.jpg"),
    re.compile(r"dossiers/dossier-(?P<id>[1-9][0-9]{0,17})\.pdf"),
]
_SHA256 = re.compile(r"[0-9a-f]{64}")

# (label in messages, table): what the manifest counts and what makes a database "not empty".
COUNTED = [("cases", "cases"), ("evidence records", "evidence"), ("dossiers", "dossiers"),
           ("accounts", "users"), ("businesses", "businesses"), ("timeline entries", "timeline_entries"),
           ("audit events", "audit_events")]
NOT_EMPTY_IF_ANY = ("cases", "evidence", "dossiers", "users", "businesses", "audit_events")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the terminal."""


# --- Progress ----------------------------------------------------------------------------------

# progress(label, total) -> a context manager yielding update(amount). `total` is in bytes or
# items, or None for a step whose length is unknown (a database dump).
Progress = Callable[[str, int | None], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def no_progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    yield lambda amount=1: None


# --- Small helpers -----------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def hash_file(path: Path, update: Callable[[int], None] | None = None) -> tuple[str, int]:
    """(SHA-256, size) of a file, reporting the bytes read to `update`."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if update:
                update(len(chunk))
    return digest.hexdigest(), size


def _copy_hashing(source: Path, dest: Path, update: Callable[[int], None] | None = None) -> tuple[str, int]:
    """Copy `source` to the new file `dest` (never replacing one), hashing as it goes; fsynced."""
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as reader, open(dest, "xb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
            if update:
                update(len(chunk))
        writer.flush()
        os.fsync(writer.fileno())
    return digest.hexdigest(), size


def _database_kind() -> str:
    kind = db.engine.dialect.name
    if kind not in DATABASE_FILES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {kind}.")
    return kind


def _database_label() -> str:
    return db.engine.url.render_as_string(hide_password=True)


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"Cannot back up or restore the SQLite database {database or ':memory:'}: "
                          f"it must be a file named in DATABASE_URL.")
    return Path(database).absolute()


def app_version() -> str:
    try:
        with open(REPO_ROOT / "pyproject.toml", "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _migration_script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(current_app.extensions["migrate"].directory)


def migration_heads() -> list[str]:
    return sorted(_migration_script().get_heads())


def _plural(count: int, label: str) -> str:
    if count == 1:
        singular = {"cases": "case", "evidence records": "evidence record", "dossiers": "dossier",
                    "accounts": "account", "businesses": "business", "timeline entries": "timeline entry",
                    "audit events": "audit event", "files": "file"}.get(label, label)
        return f"1 {singular}"
    return f"{count} {label}"


def describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(_plural(counts.get(label, 0), label) for label, _ in COUNTED if label in counts)


# --- What a snapshot holds ---------------------------------------------------------------------


@dataclass
class SnapshotFacts:
    """What the backed-up database says: counts, schema revision, audit chain head, and the files it needs."""

    counts: dict[str, int]
    migration_revision: str | None
    chain_seq: int
    chain_hash: str
    evidence: dict[str, int]  # sha256 -> size, one per distinct file
    photos: set[str]  # sha256 of files that have a thumbnail and print copy
    dossiers: list[tuple[int, str, int | None]]  # (id, sha256, size) of issued dossiers


def _read_facts(rows: Callable[[str], list]) -> SnapshotFacts:
    counts = {label: int(rows(f"SELECT COUNT(*) FROM {table}")[0][0]) for label, table in COUNTED}
    revisions = [row[0] for row in rows("SELECT version_num FROM alembic_version")]
    head = rows("SELECT seq, last_hash FROM audit_chain_head WHERE id = 1")
    evidence, photos = {}, set()
    for sha256, size, has_thumbnail in rows("SELECT sha256, size, has_thumbnail FROM evidence"):
        evidence[sha256] = int(size)
        if has_thumbnail:
            photos.add(sha256)
    dossiers = [(int(i), sha, size) for i, sha, size in rows(
        "SELECT id, sha256, size FROM dossiers WHERE state = 'ready' AND sha256 IS NOT NULL ORDER BY id")]
    return SnapshotFacts(counts, ",".join(sorted(revisions)) or None, int(head[0][0]) if head else 0,
                         head[0][1] if head else "", evidence, photos, dossiers)


def _sqlite_online_copy(source: Path, dest: Path) -> None:
    """Copy a live SQLite database with the online backup API: one read transaction, so one
    consistent snapshot; writers (WAL) carry on meanwhile. The copy is a single self-contained file."""
    with closing(sqlite3.connect(source, timeout=60)) as live, closing(sqlite3.connect(dest)) as copy:
        live.execute("PRAGMA busy_timeout=60000")
        live.backup(copy)  # pages=-1: the whole database in one step, from one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")
        result = copy.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"The copy of the SQLite database fails SQLite's integrity check: {result}")


def _snapshot_sqlite(dest: Path, progress: Progress) -> tuple[SnapshotFacts, dict]:
    live = _sqlite_path()
    if not live.is_file():
        raise BackupError(f"There is no SQLite database at {live}.")
    with progress("Copying the SQLite database (online backup)", None):
        _sqlite_online_copy(live, dest)
    with closing(sqlite3.connect(f"{dest.as_uri()}?mode=ro", uri=True)) as copy:
        facts = _read_facts(lambda sql: copy.execute(sql).fetchall())
    return facts, {"sqlite_version": sqlite3.sqlite_version}


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found. It comes with the PostgreSQL client tools "
                          f"(Debian/Ubuntu: apt-get install postgresql-client), whose major version must be "
                          f"at least the server's.")
    return path


def _tool_version(path: str) -> tuple[str, int]:
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    match = re.search(r"\)\s*(\d+)", output)
    return output, int(match.group(1)) if match else 0


_LIBPQ_ENV = {"host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "user": "PGUSER",
              "password": "PGPASSWORD", "dbname": "PGDATABASE", "sslmode": "PGSSLMODE",
              "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
              "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT", "options": "PGOPTIONS",
              "target_session_attrs": "PGTARGETSESSIONATTRS", "service": "PGSERVICE"}


def pg_environment(url=None) -> dict[str, str]:
    """The environment for pg_dump / pg_restore: the app's DATABASE_URL as libpq variables
    (the password in PGPASSWORD, never on a command line that `ps` shows)."""
    url = make_url(url) if url is not None else db.engine.url
    env = dict(os.environ)
    for key, value in url.query.items():
        value = value[-1] if isinstance(value, tuple) else value
        if key in _LIBPQ_ENV and value:
            env[_LIBPQ_ENV[key]] = str(value)
    for attribute, variable in (("host", "PGHOST"), ("port", "PGPORT"), ("username", "PGUSER"),
                                ("password", "PGPASSWORD"), ("database", "PGDATABASE")):
        value = getattr(url, attribute)
        if value:
            env[variable] = str(value)
    env.setdefault("PGAPPNAME", "investigations-backup")
    return env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BackupError(f"{what} failed (exit {result.returncode}):\n{detail}")


def _snapshot_postgres(dest: Path, progress: Progress) -> tuple[SnapshotFacts, dict]:
    pg_dump = _pg_tool("pg_dump")
    client, client_major = _tool_version(pg_dump)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            server_num = int(connection.execute(text("SHOW server_version_num")).scalar_one())
            server = connection.execute(text("SHOW server_version")).scalar_one()
            if client_major and client_major < server_num // 10000:
                raise BackupError(f"{client} is older than the server (PostgreSQL {server}): pg_dump's major "
                                  f"version must be at least the server's. Install postgresql-client-"
                                  f"{server_num // 10000}, or put its bin/ first on PATH.")
            isolation = connection.execute(text("SHOW transaction_isolation")).scalar_one()
            if isolation != "repeatable read":  # pragma: no cover - a guard, not a path
                raise BackupError(f"Could not open a snapshot transaction (isolation is {isolation}).")
            # pg_dump reads exactly what this transaction sees, and so do the queries below.
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            with progress("Dumping the PostgreSQL database (pg_dump)", None):
                _run([pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={dest}"],
                     pg_environment(), "pg_dump")
            facts = _read_facts(lambda sql: connection.execute(text(sql)).all())
    return facts, {"server_version": server, "pg_dump_version": client}


# --- Creating a backup -------------------------------------------------------------------------


@dataclass
class BackupReport:
    directory: Path
    manifest: dict
    linked: int = 0  # files hard-linked from the live directories
    copied: int = 0

    @property
    def problems(self) -> list[dict]:
        return self.manifest["problems"]

    @property
    def total_bytes(self) -> int:
        return sum(entry["size"] for entry in self.manifest["files"])


class _Placer:
    """Put a live file into the backup: a hard link when possible (the live files are never
    changed in place), else a copy; return its (SHA-256, size), hashed from what was placed."""

    def __init__(self, link: bool):
        self.link = link
        self.linked = self.copied = 0

    def place(self, source: Path, dest: Path, update=None) -> tuple[str, int]:
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.link:
            try:
                os.link(source, dest)
            except FileNotFoundError:
                raise
            except OSError as error:
                if error.errno == errno.EXDEV:  # another filesystem: copy from now on
                    self.link = False
                elif error.errno not in (errno.EPERM, errno.EACCES, errno.EMLINK, errno.ENOTSUP):
                    raise
            else:
                self.linked += 1
                return hash_file(dest, update)
        self.copied += 1
        try:
            return _copy_hashing(source, dest, update)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise


def _check_target(target: Path) -> None:
    resolved = target.resolve()
    config = current_app.config
    for name in ("EVIDENCE_DIR", "DOSSIER_DIR", "SEARCH_INDEX_DIR"):
        live = Path(config[name]).resolve()
        if resolved == live or live in resolved.parents:
            raise BackupError(f"{target} is inside {name} ({live}); choose a directory outside the app's own.")
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} exists and is not a directory.")
    if target.is_dir():
        entries = sorted(entry.name for entry in target.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (" …" if len(entries) > 5 else "")
            hint = " (.partial-* is left by an interrupted backup)" if any(
                name.startswith(".partial-") for name in entries) else ""
            raise BackupError(f"{target} is not empty (it holds {shown}){hint}. Give a new or empty directory.")


def create_backup(target_dir, progress: Progress | None = None, link: bool = True) -> BackupReport:
    """Write a consistent backup of the running app into `target_dir` (new, or empty).

    Files are hard-linked from EVIDENCE_DIR and DOSSIER_DIR when on the same filesystem (pass
    link=False to copy them anyway, e.g. for a backup to be moved elsewhere). Problems found in
    the live store (a file missing or altered) do not stop the backup: they are listed in the
    manifest's "problems" and in the report. Records a `backup.create` audit event (and commits).
    """
    progress = progress or no_progress
    target = Path(target_dir).absolute()
    _check_target(target)
    created_dir = not target.exists()
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=target))
    try:
        report = _write_backup(target, partial, progress, link)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # hard links only: the live files keep their own names
        if created_dir and not any(target.iterdir()):
            target.rmdir()
        raise
    from . import audit

    audit.record("backup.create", None, actor_label="command line", directory=str(target),
                 audit_chain_seq=report.manifest["audit_chain"]["seq"], files=len(report.manifest["files"]),
                 problems=len(report.problems))
    db.session.commit()
    return report


def _write_backup(target: Path, partial: Path, progress: Progress, link: bool) -> BackupReport:
    created_at = _now()
    kind = _database_kind()
    database_file = DATABASE_FILES[kind]
    if kind == "sqlite":
        facts, database_details = _snapshot_sqlite(partial / database_file, progress)
    else:
        facts, database_details = _snapshot_postgres(partial / database_file, progress)
    os.chmod(partial / database_file, 0o600)

    files: list[dict] = []
    problems: list[dict] = []
    placer = _Placer(link)
    for top in ("evidence", "dossiers"):  # private: a backup holds complainants' details and the evidence
        (partial / top).mkdir(mode=0o700)
    _copy_evidence(facts, partial, placer, files, problems, progress)
    _copy_dossiers(facts, partial, placer, files, problems, progress)
    with progress("Hashing the database copy", (partial / database_file).stat().st_size) as update:
        sha256, size = hash_file(partial / database_file, update)
    files.append({"path": database_file, "sha256": sha256, "size": size})
    files.sort(key=lambda entry: entry["path"])

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created_at,
        "completed_at": _now(),
        "app": {"name": "investigations", "version": app_version(), "migration_heads": migration_heads()},
        "database": {"kind": kind, "file": database_file, "migration_revision": facts.migration_revision,
                     "source": _database_label(), **database_details},
        "counts": {**facts.counts, "evidence files": len(facts.evidence), "issued dossiers": len(facts.dossiers)},
        "audit_chain": {"seq": facts.chain_seq, "head_hash": facts.chain_hash},
        "files": files,
        "problems": problems,
    }
    manifest_path = partial / MANIFEST
    with open(manifest_path, "x", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(manifest_path, 0o600)
    _move_into_place(partial, target)
    return BackupReport(target, manifest, linked=placer.linked, copied=placer.copied)


def _copy_evidence(facts: SnapshotFacts, partial: Path, placer: _Placer, files: list, problems: list,
                   progress: Progress) -> None:
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    # A committed row's object can be briefly absent: a failed upload of the same bytes removes the
    # object it thought was its own, and the committed upload links it back a moment later
    # (EvidenceStore.finish). So a missing file is looked for again, within a total patience.
    patience = MISSING_FILE_PATIENCE_SECONDS
    with progress("Copying evidence files", sum(facts.evidence.values())) as update:
        for sha256, size in sorted(facts.evidence.items()):
            relative = f"evidence/objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"
            dest = partial / relative
            while True:
                try:
                    actual, actual_size = placer.place(store.path_for(sha256), dest, update)
                    break
                except FileNotFoundError:
                    if patience <= 0:
                        actual = None
                        break
                    time.sleep(0.25)
                    patience -= 0.25
            if actual is None:
                update(size)
                problems.append({"kind": "evidence missing", "sha256": sha256,
                                 "message": f"Evidence file {sha256} is missing from EVIDENCE_DIR, so it is not in "
                                            f"the backup (run `flask evidence verify`)."})
            elif actual != sha256:
                dest.unlink()
                problems.append({"kind": "evidence altered", "sha256": sha256,
                                 "message": f"Evidence file {sha256} is altered in EVIDENCE_DIR (its bytes hash to "
                                            f"{actual}), so it is not in the backup (run `flask evidence verify`)."})
            else:
                files.append({"path": relative, "sha256": actual, "size": actual_size})

    photo_copies = [(sha256, variant) for sha256 in sorted(facts.photos) for variant in ("thumb", "print")]
    with progress("Copying photo thumbnails and print copies", len(photo_copies)) as update:
        for sha256, variant in photo_copies:
            source = store.derived_path(sha256, variant)
            relative = f"evidence/derived/{sha256[:2]}/{sha256}-{variant}.jpg"
            try:
                actual, size = placer.place(source, partial / relative)
            except FileNotFoundError:
                pass  # made again from the original at restore
            else:
                files.append({"path": relative, "sha256": actual, "size": size})
            update(1)


def _copy_dossiers(facts: SnapshotFacts, partial: Path, placer: _Placer, files: list, problems: list,
                   progress: Progress) -> None:
    directory = Path(current_app.config["DOSSIER_DIR"])
    with progress("Copying dossiers", sum(size or 0 for _, _, size in facts.dossiers)) as update:
        for dossier_id, sha256, size in facts.dossiers:
            relative = f"dossiers/dossier-{dossier_id}.pdf"
            dest = partial / relative
            try:
                actual, actual_size = placer.place(directory / f"dossier-{dossier_id}.pdf", dest, update)
            except FileNotFoundError:
                update(size or 0)
                problems.append({"kind": "dossier missing", "dossier": dossier_id,
                                 "message": f"Dossier #{dossier_id}'s file is missing from DOSSIER_DIR."})
                continue
            if actual != sha256:
                dest.unlink()
                problems.append({"kind": "dossier altered", "dossier": dossier_id,
                                 "message": f"Dossier #{dossier_id}'s file in DOSSIER_DIR is not the one issued "
                                            f"(SHA-256 {actual}, issued {sha256}); it is not in the backup."})
                continue
            files.append({"path": relative, "sha256": actual, "size": actual_size})


def _move_into_place(partial: Path, target: Path) -> None:
    """Move everything from .partial-* into the backup directory, the manifest last."""
    for entry in sorted(partial.iterdir()):
        if entry.name == MANIFEST:
            continue
        if entry.is_dir():
            os.rename(entry, target / entry.name)  # fails if a non-empty directory of that name appeared
        else:
            os.link(entry, target / entry.name)  # fails rather than replace a file
            entry.unlink()
    fsync_dir(target)
    os.link(partial / MANIFEST, target / MANIFEST)
    (partial / MANIFEST).unlink()
    partial.rmdir()
    fsync_dir(target)


# --- Verifying a backup ------------------------------------------------------------------------


@dataclass
class VerifyReport:
    directory: Path
    manifest: dict | None = None
    files: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems

    @property
    def recorded_problems(self) -> list[dict]:
        """Problems of the live store noted when the backup was made (not damage to the backup)."""
        return (self.manifest or {}).get("problems", [])


def _load_manifest(source: Path, report: VerifyReport) -> dict | None:
    path = source / MANIFEST
    if not source.is_dir():
        report.problems.append(f"{source} is not a directory.")
        return None
    if not path.is_file():
        partials = [entry.name for entry in source.iterdir() if entry.name.startswith(".partial-")]
        report.problems.append(f"No {MANIFEST} in {source}: " + (
            f"an interrupted backup (it left {partials[0]})." if partials
            else "not a backup, or one that never finished."))
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        report.problems.append(f"{MANIFEST} cannot be read ({error}): the manifest is damaged.")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        report.problems.append(f"{MANIFEST} is not the manifest of a backup made by this app.")
        return None
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        report.problems.append(f"This backup's format (version {manifest.get('format_version')}) is newer than "
                               f"this app understands ({FORMAT_VERSION}); update the app.")
        return None
    for key, kind in (("files", list), ("database", dict), ("counts", dict), ("audit_chain", dict),
                      ("problems", list)):
        if not isinstance(manifest.get(key), kind):
            report.problems.append(f"{MANIFEST} has no valid “{key}”: the manifest is damaged.")
            return None
    if not all(isinstance(problem, dict) and isinstance(problem.get("message"), str)
               for problem in manifest["problems"]):
        report.problems.append(f"{MANIFEST} has no valid “problems”: the manifest is damaged.")
        return None
    return manifest


def _valid_entries(manifest: dict, report: VerifyReport) -> list[dict]:
    entries, seen = [], set()
    for entry in manifest["files"]:
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not isinstance(entry.get("sha256"), str) or \
                not _SHA256.fullmatch(entry["sha256"]) or not isinstance(entry.get("size"), int) \
                or entry["size"] < 0:
            report.problems.append(f"{MANIFEST} has a malformed file entry: {str(entry)[:200]}")
            continue
        match = next((m for m in (p.fullmatch(path) for p in _ALLOWED_PATHS) if m), None)
        if match is None:
            report.problems.append(f"{MANIFEST} lists a path a backup never contains: {path[:200]!r}")
            continue
        if path in seen:
            report.problems.append(f"{MANIFEST} lists {path} twice.")
            continue
        if path.startswith("evidence/objects/") and match.group("sha") != entry["sha256"]:
            report.problems.append(f"{MANIFEST} gives evidence file {path} the hash {entry['sha256']}, "
                                   f"which is not its name.")
            continue
        seen.add(path)
        entries.append(entry)
    database = manifest["database"]
    expected = DATABASE_FILES.get(database.get("kind"))
    if expected is None:
        report.problems.append(f"{MANIFEST} names an unknown database kind {database.get('kind')!r}.")
    elif expected not in seen:
        report.problems.append(f"{MANIFEST} does not list the database file {expected}.")
    return entries


def verify_backup(source_dir, progress: Progress | None = None) -> VerifyReport:
    """Check a backup directory against its manifest: every listed file present with its size and
    SHA-256, nothing else there, and (SQLite) every evidence row's file in the backup."""
    progress = progress or no_progress
    source = Path(source_dir)
    report = VerifyReport(source)
    manifest = _load_manifest(source, report)
    if manifest is None:
        return report
    report.manifest = manifest
    entries = _valid_entries(manifest, report)
    listed = {entry["path"] for entry in entries} | {MANIFEST}
    intact = set()
    with progress("Checking the backup's hashes", sum(entry["size"] for entry in entries)) as update:
        for entry in entries:
            path = source / entry["path"]
            if path.is_symlink() or (path.exists() and not path.is_file()):
                report.problems.append(f"NOT A FILE: {entry['path']} (a link or directory where a file belongs)")
                update(entry["size"])
                continue
            if not path.exists():
                report.problems.append(f"MISSING: {entry['path']}")
                update(entry["size"])
                continue
            sha256, size = hash_file(path, update)
            report.files += 1
            report.bytes += size
            if size != entry["size"] or sha256 != entry["sha256"]:
                report.problems.append(f"ALTERED: {entry['path']} has SHA-256 {sha256} ({size} bytes); the manifest "
                                       f"says {entry['sha256']} ({entry['size']} bytes)")
            else:
                intact.add(entry["path"])
    for root, dirs, names in os.walk(source):
        relative_root = Path(root).relative_to(source)
        for name in sorted(dirs):
            if name.startswith(".partial-"):
                report.problems.append(f"UNEXPECTED: {relative_root / name}/ was left by an interrupted backup")
                dirs.remove(name)
            elif (Path(root) / name).is_symlink():
                report.problems.append(f"UNEXPECTED: {relative_root / name} (a link)")
        for name in sorted(names):
            relative = (relative_root / name).as_posix()
            if relative not in listed:
                report.problems.append(f"UNEXPECTED: {relative} is not in the manifest")
    if manifest["database"].get("kind") == "sqlite" and DATABASE_FILES["sqlite"] in intact:
        _check_rows_have_files(source, manifest, {entry["path"] for entry in entries}, report)
    return report


def _check_rows_have_files(source: Path, manifest: dict, listed: set[str], report: VerifyReport) -> None:
    """Every evidence row and issued dossier in the backed-up SQLite database has its file here
    (apart from files already missing from the live store when the backup was made)."""
    known = {problem.get("sha256") for problem in manifest["problems"]} | {
        problem.get("dossier") for problem in manifest["problems"]}
    uri = f"{(source / DATABASE_FILES['sqlite']).absolute().as_uri()}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as copy:
            facts = _read_facts(lambda sql: copy.execute(sql).fetchall())
    except sqlite3.Error as error:
        report.problems.append(f"The backed-up database cannot be read: {error}")
        return
    for sha256 in sorted(facts.evidence):
        if f"evidence/objects/{sha256[:2]}/{sha256[2:4]}/{sha256}" not in listed and sha256 not in known:
            report.problems.append(f"MISSING: the backed-up database has evidence {sha256}, whose file is not in "
                                   f"the backup")
    for dossier_id, _, _ in facts.dossiers:
        if f"dossiers/dossier-{dossier_id}.pdf" not in listed and dossier_id not in known:
            report.problems.append(f"MISSING: the backed-up database has dossier #{dossier_id}, whose file is not "
                                   f"in the backup")


# --- Restoring ---------------------------------------------------------------------------------


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
    return ExistingData(_database_label(), counts)


class NotEmpty(BackupError):
    """The database holds data and --force was not given."""

    def __init__(self, existing: ExistingData, manifest: dict):
        stamp = "<date-time>"
        self.existing = existing
        kind = manifest["database"]["kind"]
        if kind == "sqlite":
            kept = f"The current database file would be kept as {_sqlite_path().name}.before-restore-{stamp}."
        else:
            kept = ("Its current contents would be dropped (pg_restore --clean) and not kept: back them up "
                    "first with `flask backup create`.")
        super().__init__(
            f"The database {existing.where} is not empty: it holds {existing.describe()}.\n"
            f"Restoring replaces all of it with the backup made {manifest.get('created_at')} "
            f"({describe_counts(manifest['counts'])}). {kept}\n"
            f"Dossier files in DOSSIER_DIR that are not in the backup would be moved to "
            f"{Path(current_app.config['DOSSIER_DIR']) / ('replaced-by-restore-' + stamp)}/; evidence files are only "
            f"added (they are named by their hash and never overwritten); the search index is rebuilt.\n"
            f"Stop the app, then run the restore again with --force to replace it.")


@dataclass
class RestoreReport:
    manifest: dict
    replaced: ExistingData
    database_kept_as: Path | None = None
    evidence_restored: int = 0
    evidence_present: int = 0
    evidence_repaired: list[str] = field(default_factory=list)  # altered in the store, replaced by the backup's
    evidence_set_aside: Path | None = None
    photo_copies_restored: int = 0
    photo_copies_remade: int = 0
    dossiers_restored: int = 0
    dossiers_present: int = 0
    dossiers_set_aside: list[str] = field(default_factory=list)
    dossiers_set_aside_dir: Path | None = None
    tables_dropped: list[str] = field(default_factory=list)  # PostgreSQL: of migrations newer than the backup
    indexed: int = 0
    evidence_checked: int = 0
    evidence_problems: list = field(default_factory=list)  # evidence.services.VerifyProblem
    chain: object = None  # audit.ChainReport, once checked

    @property
    def ok(self) -> bool:
        return not self.evidence_problems and self.chain is not None and self.chain.ok


def _check_restorable(manifest: dict, force: bool) -> ExistingData:
    kind = _database_kind()
    backup_kind = manifest["database"]["kind"]
    if backup_kind != kind:
        raise BackupError(f"This is a backup of a {backup_kind} database; the app is configured for {kind} "
                          f"({_database_label()}). Restore it into the same kind of database.")
    revision = manifest["database"].get("migration_revision")
    script = _migration_script()
    for rev in str(revision or "").split(","):
        if rev:
            try:
                script.get_revision(rev)
            except Exception:
                raise BackupError(f"This backup's database is at migration {rev}, which this version of the app "
                                  f"does not know: it was made by a newer version. Update the app first.")
    existing = existing_data()
    if not existing.empty and not force:
        raise NotEmpty(existing, manifest)
    return existing


def restore_backup(source_dir, progress: Progress | None = None, force: bool = False) -> RestoreReport:
    """Restore a backup into the configured database, EVIDENCE_DIR and DOSSIER_DIR. The app must be
    stopped. Verifies the backup first and changes nothing if any file fails; refuses a database
    that holds data unless `force` (NotEmpty says what would be replaced). Then migrates, rebuilds the
    search index, re-hashes the evidence, walks the audit chain, and records a `backup.restore` event."""
    progress = progress or no_progress
    source = Path(source_dir)
    # The cheap refusals first (wrong kind, newer app, data in the way), then every hash.
    manifest = _load_manifest(source, VerifyReport(source))
    existing = _check_restorable(manifest, force) if manifest is not None else None
    check = verify_backup(source, progress)
    if not check.ok:
        shown = check.problems[:20] + ([f"… and {len(check.problems) - 20} more"] if len(check.problems) > 20 else [])
        raise BackupError(f"The backup in {source} does not verify, so nothing was restored:\n  " + "\n  ".join(shown))
    if check.manifest != manifest or existing is None:
        raise BackupError(f"{source / MANIFEST} changed during the restore; nothing was restored.")
    kind = _database_kind()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")

    report = RestoreReport(manifest, existing)
    entries = {entry["path"]: entry for entry in manifest["files"]}
    _restore_evidence(source, entries, report, stamp, progress)
    db.session.remove()
    db.engine.dispose()
    database_file = source / DATABASE_FILES[kind]
    if kind == "sqlite":
        report.database_kept_as = _restore_sqlite(database_file, keep=not existing.empty, stamp=stamp,
                                                  progress=progress)
    else:
        report.tables_dropped = _restore_postgres(database_file, progress)
    db.engine.dispose()
    _restore_dossiers(source, entries, report, stamp, progress)
    _after_restore(report, progress)
    return report


def _install_new(source: Path, dest: Path, temp_dir: Path, expected: str, update=None, mode: int = 0o444,
                 replace: bool = True) -> None:
    """Copy `source` to `dest` by way of a temporary file in `temp_dir` (locked while it is written, so
    EvidenceStore.clean_stale_temp leaves it alone), checking its SHA-256 on the way. With
    replace=False (evidence objects) an existing `dest` is never replaced."""
    fd, name = tempfile.mkstemp(prefix="restore-", dir=temp_dir)
    temp = Path(name)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        digest = hashlib.sha256()
        with open(source, "rb") as reader, open(os.dup(fd), "wb") as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                writer.write(chunk)
                if update:
                    update(len(chunk))
            writer.flush()
            os.fsync(writer.fileno())
        if digest.hexdigest() != expected:
            raise BackupError(f"{source} changed while it was being restored (SHA-256 {digest.hexdigest()}, "
                              f"expected {expected}).")
        os.chmod(temp, mode)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if replace:
            os.replace(temp, dest)
        else:
            os.link(temp, dest)
        fsync_dir(dest.parent)
    finally:
        temp.unlink(missing_ok=True)
        os.close(fd)


def _restore_evidence(source: Path, entries: dict, report: RestoreReport, stamp: str, progress: Progress) -> None:
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    store.ensure_dirs()
    objects = [entry for path, entry in entries.items() if path.startswith("evidence/objects/")]
    with progress("Restoring evidence files", sum(entry["size"] for entry in objects)) as update:
        for entry in objects:
            sha256 = entry["sha256"]
            dest = store.path_for(sha256)
            if dest.is_file():
                if hash_file(dest)[0] == sha256:
                    report.evidence_present += 1
                    update(entry["size"])
                    continue
                # Damaged in the store: keep the damaged bytes aside, put the backup's in their place.
                report.evidence_set_aside = store.root / f"replaced-by-restore-{stamp}"
                report.evidence_set_aside.mkdir(exist_ok=True)
                os.rename(dest, report.evidence_set_aside / sha256)
                report.evidence_repaired.append(sha256)
            _install_new(source / entry["path"], dest, store.tmp, sha256, update, replace=False)
            report.evidence_restored += 1
    derived = [entry for path, entry in entries.items() if path.startswith("evidence/derived/")]
    with progress("Restoring photo thumbnails and print copies", len(derived)) as update:
        for entry in derived:
            dest = store.root / entry["path"].removeprefix("evidence/")
            if not (dest.is_file() and hash_file(dest)[0] == entry["sha256"]):
                dest.parent.mkdir(parents=True, exist_ok=True)
                _install_new(source / entry["path"], dest, dest.parent, entry["sha256"], mode=0o644)
                report.photo_copies_restored += 1
            update(1)


def _restore_sqlite(backup_file: Path, keep: bool, stamp: str, progress: Progress) -> Path | None:
    """Write the backed-up database into the configured SQLite file with the online backup API, in
    one transaction (no stale -wal file can be mixed in). The file's old contents are kept aside first."""
    live = _sqlite_path()
    live.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    if keep and live.exists():
        kept = live.with_name(f"{live.name}.before-restore-{stamp}")
        with progress(f"Keeping the current database as {kept.name}", None):
            _sqlite_online_copy(live, kept)
    with progress("Restoring the SQLite database", None):
        try:
            _sqlite_restore_into(backup_file, live)
        except sqlite3.OperationalError as error:
            # A WAL database with another page size cannot take the pages: start a new file. Any other
            # failure (the database is locked: the app or a long import is still writing) stops here,
            # rather than move the file away under a process that would go on writing to it.
            if "readonly" not in str(error):  # SQLITE_READONLY is how the page-size mismatch shows
                raise BackupError(f"The database could not be restored ({error}). Stop the app (and any "
                                   "import) and run the restore again; nothing was changed in the database.") \
                    from error
            for suffix in ("", "-wal", "-shm"):
                old = live.with_name(live.name + suffix)
                if old.exists():
                    os.rename(old, old.with_name(f"{live.name}.replaced-{stamp}{suffix}"))
            _sqlite_restore_into(backup_file, live)
    return kept


def _sqlite_restore_into(backup_file: Path, live: Path) -> None:
    with closing(sqlite3.connect(f"{backup_file.absolute().as_uri()}?mode=ro", uri=True)) as copy, \
            closing(sqlite3.connect(live, timeout=60)) as target:
        target.execute("PRAGMA busy_timeout=60000")
        copy.backup(target)
        result = target.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"The restored SQLite database fails SQLite's integrity check: {result}")


def _tables_in_dump(pg_restore: str, dump: Path) -> set[str]:
    """The names of the tables a custom-format dump creates (from its table of contents)."""
    result = subprocess.run([pg_restore, "--list", str(dump)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore cannot read {dump}:\n{result.stderr.strip()}")
    return {match.group(1) for match in re.finditer(r"^\d+; \d+ \d+ TABLE \S+ (\S+)", result.stdout, re.M)}


def _restore_postgres(dump: Path, progress: Progress) -> list[str]:
    """pg_restore --clean --if-exists in one transaction. Returns the tables dropped beforehand: those
    of this app that the dump does not have (made by migrations newer than the backup), which
    pg_restore --clean would leave in place and `flask db upgrade` would then fail to create."""
    pg_restore = _pg_tool("pg_restore")
    in_dump = _tables_in_dump(pg_restore, dump)
    ours = set(db.metadata.tables) | {"alembic_version"}
    newer = sorted(table for table in inspect(db.engine).get_table_names() if table in ours and table not in in_dump)
    if newer:
        with db.engine.begin() as connection:
            for table in newer:
                connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    db.engine.dispose()
    name = db.engine.url.database
    conninfo = "dbname='" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"
    with progress("Restoring the PostgreSQL database (pg_restore)", None):
        _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction",
              "--exit-on-error", f"--dbname={conninfo}", str(dump)], pg_environment(), "pg_restore")
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return newer


def _restore_dossiers(source: Path, entries: dict, report: RestoreReport, stamp: str, progress: Progress) -> None:
    directory = Path(current_app.config["DOSSIER_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {path.removeprefix("dossiers/"): entry for path, entry in entries.items()
              if path.startswith("dossiers/")}
    aside = directory / f"replaced-by-restore-{stamp}"
    # Files of the replaced database's dossiers would otherwise be overwritten by new dossiers
    # with the same number; keep them aside instead.
    for existing in sorted(directory.glob("dossier-*.pdf")):
        entry = wanted.get(existing.name)
        if entry is None or hash_file(existing)[0] != entry["sha256"]:
            aside.mkdir(exist_ok=True)
            os.rename(existing, aside / existing.name)
            report.dossiers_set_aside.append(existing.name)
            report.dossiers_set_aside_dir = aside
    with progress("Restoring dossiers", sum(entry["size"] for entry in wanted.values())) as update:
        for name, entry in sorted(wanted.items()):
            dest = directory / name
            if dest.is_file():
                report.dossiers_present += 1
                update(entry["size"])
                continue
            _install_new(source / entry["path"], dest, directory, entry["sha256"], update, mode=0o600)
            report.dossiers_restored += 1


def _after_restore(report: RestoreReport, progress: Progress) -> None:
    from alembic import command

    from . import audit
    from .evidence.services import make_image_copies, store, verify_all
    from .models import Evidence
    from .search import maintenance
    from .search.sync import process_queue

    with progress("Applying migrations (flask db upgrade)", None):
        command.upgrade(current_app.extensions["migrate"].migrate.get_config(), "head")
    db.engine.dispose()

    evidence_store = store()
    photos = db.session.scalars(select(Evidence.sha256).where(Evidence.has_thumbnail.is_(True)).distinct()).all()
    for sha256 in photos:
        if evidence_store.exists(sha256) and not all(
                evidence_store.derived_path(sha256, variant).is_file() for variant in ("thumb", "print")):
            make_image_copies(sha256)
            report.photo_copies_remade += 1

    current_app.extensions.pop("search_backend", None)  # a new database: no cached searcher of the old one
    with progress("Rebuilding the search index", maintenance.case_count()) as update:
        report.indexed = maintenance.reindex(progress=update)
    while process_queue(limit=500):  # updates queued in the backed-up database are covered by the rebuild
        pass

    total = int(db.session.scalar(select(func.coalesce(func.sum(Evidence.size), 0))))
    with progress("Re-hashing the restored evidence", total) as update:
        report.evidence_checked, report.evidence_problems = verify_all(progress=update)

    events = report.manifest["audit_chain"].get("seq", 0)
    with progress("Checking the audit chain", events) as update:
        done = [0]

        def advance(checked):
            update(checked - done[0])
            done[0] = checked

        report.chain = audit.verify_chain(progress=advance)

    audit.record("backup.restore", None, actor_label="command line", backup_created_at=report.manifest["created_at"],
                 backup_audit_chain_seq=events, backup_audit_chain_head=report.manifest["audit_chain"].get("head_hash"),
                 replaced=report.replaced.counts, evidence_problems=len(report.evidence_problems),
                 audit_chain_ok=report.chain.ok)
    db.session.commit()
