"""Database connection settings that SQLAlchemy does not make by itself."""
import sqlite3

from sqlalchemy import Connection, Row, Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

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


def serialize_with_other_writers(session) -> None:
    """From here to the end of the transaction, other writers wait for this one, as rows read
    `with_for_update()` make them wait on PostgreSQL (where this does nothing). SQLite has no
    row locks: a no-op UPDATE takes its database-wide write lock, in a fresh transaction (a
    write after reading an older snapshot would fail), and loaded objects are read again."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.commit()
    session.execute(text("UPDATE users SET id = id WHERE 0"))


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
        # A concurrent transaction may create it first; then the UPDATE above finds it.
        connection.execute(insert_if_absent(connection, table, {**key, column: 0, **(initial or {})}, list(key)))
    raise RuntimeError(f"Could not create the {table.name} row {key}.")


def insert_if_absent(connection: Connection, table: Table, values: dict, unique_columns: list[str]):
    """INSERT … ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike.

    Used instead of a savepoint: with pysqlite a savepoint opened as the first statement of
    a transaction would commit on release.
    """
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(values).on_conflict_do_nothing(index_elements=unique_columns)
