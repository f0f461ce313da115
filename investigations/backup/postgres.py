"""PostgreSQL: pg_dump of one snapshot into a backup, pg_restore of a backup into the configured
database. The client tools get the connection from DATABASE_URL through libpq's environment."""
import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from ..extensions import db
from .database import SnapshotFacts, read_facts
from .errors import BackupError
from .progress import Progress

_LIBPQ_ENV = {"host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "user": "PGUSER",
              "password": "PGPASSWORD", "dbname": "PGDATABASE", "sslmode": "PGSSLMODE",
              "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
              "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT", "options": "PGOPTIONS",
              "target_session_attrs": "PGTARGETSESSIONATTRS", "service": "PGSERVICE"}


def find_pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found. It comes with the PostgreSQL client tools "
                          f"(Debian/Ubuntu: apt-get install postgresql-client), whose major version must be "
                          f"at least the server's.")
    return path


def _tool_version(path: str) -> tuple[str, int]:
    """The tool's version line and its major version (0 if it cannot be read)."""
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    match = re.search(r"\)\s*(\d+)", output)
    return output, int(match.group(1)) if match else 0


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


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, env=pg_environment(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BackupError(f"{what} failed (exit {result.returncode}):\n{detail}")


def snapshot_postgres(dest: Path, progress: Progress) -> tuple[SnapshotFacts, dict]:
    """Dump the database to `dest`; return what the dump holds and details for the manifest.

    A REPEATABLE READ transaction exports its snapshot to pg_dump and then reads the facts
    itself, so both see exactly the same data."""
    pg_dump = find_pg_tool("pg_dump")
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
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            with progress("Dumping the PostgreSQL database (pg_dump)", None):
                _run([pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={dest}"],
                     "pg_dump")
            facts = read_facts(lambda sql: connection.execute(text(sql)).all(), "postgresql")
    return facts, {"server_version": server, "pg_dump_version": client}


def _tables_in_dump(pg_restore: str, dump: Path) -> set[str]:
    """The names of the tables a custom-format dump creates (from its table of contents)."""
    result = subprocess.run([pg_restore, "--list", str(dump)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore cannot read {dump}:\n{result.stderr.strip()}")
    return {match.group(1) for match in re.finditer(r"^\d+; \d+ \d+ TABLE \S+ (\S+)", result.stdout, re.M)}


def restore_postgres(dump: Path, progress: Progress) -> list[str]:
    """pg_restore --clean --if-exists in one transaction. Returns the tables dropped beforehand: those
    of this app that the dump does not have (made by migrations newer than the backup), which
    pg_restore --clean would leave in place and `flask db upgrade` would then fail to create."""
    pg_restore = find_pg_tool("pg_restore")
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
              "--exit-on-error", f"--dbname={conninfo}", str(dump)], "pg_restore")
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return newer
