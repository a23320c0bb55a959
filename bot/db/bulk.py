"""Many rows in one INSERT … ON CONFLICT DO NOTHING, cheap for the driver as well as the server.

On PostgreSQL the rows travel as one JSON document that the server unpacks (`json_to_recordset`):
one parameter whatever the row count, encoded by the json module's C encoder. The alternatives
cost more than the insert itself in a burst of a thousand pages: a VALUES list of 250 rows has
2,500 parameters, which psycopg re-parses on every call (its statement cache stops at 50), and
one array per column has every text element escaped by a regular expression (measured, bench/).
SQLite takes the VALUES list.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Table, TypeDecorator, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def insert_ignoring(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    conflict: list[str],
    returning: str | None = None,
) -> list[Any]:
    """Insert `rows`, skipping those whose `conflict` columns exist already; a key a row lacks is NULL.

    Returns the `returning` column of the rows inserted (an empty list without `returning`).
    """
    if not rows:
        return []
    names = list(dict.fromkeys(name for row in rows for name in row))
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
        if returning is None:
            session.execute(statement, rows)
            return []
        return list(session.scalars(statement.returning(table.c[returning]), rows))
    columns = [table.c[name] for name in names]
    # Each value as its column type would bind it (UTC datetimes made naive), JSON columns kept as objects.
    convert = [
        (c.name, c.type.process_bind_param if isinstance(c.type, TypeDecorator) else None) for c in columns
    ]
    document = json.dumps(
        [
            {name: (bind(row.get(name), dialect) if bind else row.get(name)) for name, bind in convert}
            for row in rows
        ],
        default=_plain,
        separators=(",", ":"),
    )
    quote = dialect.identifier_preparer.quote
    listed = ", ".join(quote(c.name) for c in columns)
    shapes = ", ".join(
        f"{quote(c.name)} {'json' if isinstance(c.type, JSON) else c.type.compile(dialect=dialect)}"
        for c in columns
    )
    # Only the table's own column names and types, quoted, are spliced in; the rows are a bound parameter.
    sql = (
        f"INSERT INTO {quote(table.name)} ({listed}) SELECT {listed} "  # noqa: S608
        f"FROM json_to_recordset(CAST(:rows AS json)) AS v({shapes}) "
        f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO NOTHING"
    )
    if returning is None:
        session.execute(text(sql), {"rows": document})
        return []
    return list(session.scalars(text(f"{sql} RETURNING {quote(returning)}"), {"rows": document}))
