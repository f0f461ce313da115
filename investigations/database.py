"""Database connection settings that SQLAlchemy does not make by itself."""
import sqlite3

from sqlalchemy import Connection, Row, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

_configured = False


def configure_sqlite() -> None:
    """Turn on foreign keys, WAL (readers never wait for the writer) and a busy timeout."""
    global _configured
    if _configured:
        return
    _configured = True

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()


def increment_row(connection: Connection, table: Table, key: dict, column: str, by: int = 1,
                  initial: dict | None = None) -> Row:
    """Add `by` to `column` of the row matching `key` and return the whole updated row,
    creating the row from `initial` first if it is missing.

    The UPDATE locks the row (PostgreSQL) or the database (SQLite) until the transaction
    ends, so concurrent callers get distinct values, one after the other.
    """
    where = [table.c[name] == value for name, value in key.items()]
    for _ in range(2):
        row = connection.execute(
            table.update().where(*where).values({column: table.c[column] + by}).returning(*table.c)
        ).first()
        if row is not None:
            return row
        try:
            with connection.begin_nested():
                connection.execute(table.insert().values({**key, column: 0, **(initial or {})}))
        except IntegrityError:
            pass  # created by a concurrent transaction in the meantime
    raise RuntimeError(f"Could not create the {table.name} row {key}.")
