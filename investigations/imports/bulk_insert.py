"""bulk_insert: many rows into one table as a plain executemany of prepared tuples."""
from sqlalchemy import Connection, Table, insert

_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def bulk_insert(connection: Connection, table: Table, columns: list[str], rows: list[tuple],
                same: dict | None = None, suffix: str = "") -> None:
    """INSERT the rows (tuples of `columns`' values; `same`: the values every row shares) as one plain
    executemany of prepared tuples, without SQLAlchemy's per-row parameter handling (a third of an
    import's time). Values go through the column types' bind processors as SQLAlchemy would (dates and
    booleans on SQLite), the shared ones once; columns left out get their Python-side default, evaluated
    once for the statement, or the server's. `suffix` is added to the statement (ON CONFLICT …)."""
    if not rows:
        return
    dialect = connection.dialect
    placeholder = _PLACEHOLDERS.get(dialect.paramstyle)
    same = dict(same or {})
    for column in table.columns:
        if column.key not in same and column.key not in columns and column.default is not None \
                and not column.primary_key:
            default = column.default
            if default.is_scalar:
                same[column.key] = default.arg
            elif default.is_callable:
                same[column.key] = default.arg(None)
            else:  # a sequence or SQL expression: let SQLAlchemy apply it
                placeholder = None
    if placeholder is None:
        connection.execute(insert(table), [{**dict(zip(columns, row, strict=True)), **same} for row in rows])
        return

    def processor(key: str):
        return table.c[key].type._cached_bind_processor(dialect)

    shared = tuple(process(value) if (process := processor(key)) else value for key, value in same.items())
    processed = [(index, process) for index, key in enumerate(columns) if (process := processor(key))]
    if processed:
        def prepare(row: tuple) -> tuple:
            values = list(row)
            for index, process in processed:
                values[index] = process(values[index])
            return (*values, *shared)
        parameters = [prepare(row) for row in rows]
    else:
        parameters = [(*row, *shared) for row in rows]
    quote = dialect.identifier_preparer.quote
    names = [*columns, *same]
    statement = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
                 f"({', '.join(quote(table.c[name].name) for name in names)}) "
                 f"VALUES ({', '.join([placeholder] * len(names))}){suffix}")
    connection.exec_driver_sql(statement, parameters)
