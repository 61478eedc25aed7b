"""New customers of an import batch on PostgreSQL: COPY into a temporary table, then
one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING.

A multi-row INSERT of a thousand customers has 15,000 placeholders, and psycopg parses
such a statement's text anew for every batch: that parse cost more than the insert.
COPY sends the rows as data. The temporary table empties itself at each commit, and
the INSERT keeps what the ON CONFLICT of the plain path gave (a customer inserted
meanwhile by someone else is skipped, not doubled) and fires the same triggers.
"""

# SQL here is assembled from the table's own column names only.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Column, ColumnElement, Row, Table, text
from sqlalchemy.orm import Session

_STAGING = "import_customer_rows"


def copy_insert_ignore_returning(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    returning: Sequence[ColumnElement[Any]],
) -> list[Row[Any]]:
    """``insert_many_ignore_returning`` through COPY (PostgreSQL only)."""
    if not rows:
        return []
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    session.execute(
        text(
            f'CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (LIKE "{table.name}")'
            " ON COMMIT DELETE ROWS"
        )
    )
    connection = session.connection().connection.driver_connection
    cursor = connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(f"COPY {_STAGING} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])
    returned = ", ".join(f'"{cast(Column[Any], column).name}"' for column in returning)
    result = session.execute(
        text(
            f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {_STAGING}'
            f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING RETURNING {returned}"
        ).columns(*returning)
    )
    rows_out = list(result.all())
    session.execute(text(f"TRUNCATE {_STAGING}"))  # for a second batch before the commit
    return rows_out
