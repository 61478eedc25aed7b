"""The CSV export on PostgreSQL: the server writes the file with COPY, Python only relays it.

Formatting a million rows in Python costs seconds of CPU (dates, amounts, quoting);
``COPY (SELECT …) TO STDOUT (FORMAT csv)`` has PostgreSQL do it and stream the result
row by row, so memory stays flat and the rate is what the server can send. The SELECT
gives each cell exactly as ``export.py`` writes it on SQLite (the same neutralised
formulas, joined tags, times and amounts). Differences in bytes, not in meaning: rows
end in LF (the server's line end; a cell holding CR or LF is quoted all the same), and
an empty text is written ``""``, an absent one as nothing; an import reads both alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from sqlalchemy import ColumnElement, String, case, cast, func, literal
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from crm_core.customers.filters import CustomerFilter
from crm_core.transfer.columns import EXPORT_HEADERS

_TEXT_FIELDS = {"name", "email", "phone", "company_name", "address", "notes", "aliases"}


def _neutralised(cell: ColumnElement[Any]) -> ColumnElement[Any]:
    from crm_core.transfer.export import ESCAPED_STARTS

    return case(
        (func.left(cell, 1).in_(ESCAPED_STARTS), literal("'") + cell),
        else_=cell,
    )


def _time(column: ColumnElement[Any], excel: bool) -> ColumnElement[Any]:
    pattern = "YYYY-MM-DD HH24:MI:SS" if excel else 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
    return func.to_char(func.timezone("UTC", column), pattern)


def _cell(excel: bool) -> Callable[[str, ColumnElement[Any]], ColumnElement[Any]]:
    def cell(key: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
        if key in _TEXT_FIELDS:
            shaped = _neutralised(column)
        elif key == "tags":
            shaped = _neutralised(func.array_to_string(column, ", "))
        elif key == "total_revenue":
            text = cast(column, String)
            shaped = func.replace(text, ".", ",") if excel else text
        elif key in ("last_contact_at", "created_at", "updated_at"):
            shaped = _time(column, excel)
        else:
            shaped = column
        return shaped.label(key)

    return cell


def copy_customers_csv(
    session: Session, out: BinaryIO, wanted: CustomerFilter, *, excel: bool, chunk: int
) -> Iterator[int]:
    """Write the CSV through COPY; yields the running count every ``chunk`` rows."""
    from crm_core.transfer.export import export_select

    statement = export_select(session, wanted, _cell(excel))
    compiled = statement.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"render_postcompile": True},
    )
    delimiter = ";" if excel else ","
    header = delimiter.join(EXPORT_HEADERS)
    out.write((header + "\n").encode())
    connection = session.connection().connection.driver_connection
    written = 0
    with connection.cursor() as cursor:  # type: ignore[union-attr]
        copy_sql = f"COPY ({compiled.string}) TO STDOUT (FORMAT csv, DELIMITER '{delimiter}')"
        with cursor.copy(copy_sql, compiled.params) as copy:
            for data in copy:  # one message per row, UTF-8 as the connection's encoding
                out.write(data)
                written += 1
                if written % chunk == 0:
                    yield written
    yield written
