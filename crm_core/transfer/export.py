"""Writing customers to CSV or JSON Lines, streamed: memory stays flat however many there are.

Rows come from one SELECT read in chunks (``yield_per``: a server-side cursor on
PostgreSQL), as plain tuples, not ORM objects, so a million customers cost what a
few thousand do. Formats:

- ``csv``: comma-separated UTF-8, ISO 8601 UTC times (``2025-09-30T14:30:00Z``),
  amounts with a decimal point, tags joined by ", ", CRLF line ends (RFC 4180).
- ``csv`` with ``excel=True``: what Danish Excel opens correctly by double-click:
  semicolons, UTF-8 with a byte-order mark, decimal comma, times as
  ``2025-09-30 14:30:00`` (UTC).
- ``jsonl``: one JSON object per customer, the fields of ``crm customer get --json``.

Formula injection: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or
``@`` (``=cmd|' /C calc'!A0``). Text cells that start so, or with a tab or carriage
return, are written with a leading apostrophe, which spreadsheets show as text; the
import removes one leading apostrophe again (a cell that starts with one gets one
more), so a round trip is exact. JSON Lines is not for spreadsheets
and is written as stored.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, BinaryIO, Literal, TextIO

from sqlalchemy import ColumnElement, Select, Subquery, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from crm_core.customers.filters import CustomerFilter, filter_condition
from crm_core.models import Customer
from crm_core.transfer.columns import EXPORT_FIELDS, EXPORT_HEADERS

ExportFormat = Literal["csv", "jsonl"]
CellOf = Callable[[str, ColumnElement[Any]], ColumnElement[Any]]
CHUNK = 5_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A cell that starts with the apostrophe itself gets one more, so the import's removal
# of one apostrophe gives back exactly what was stored.
ESCAPED_STARTS = (*FORMULA_STARTS, "'")
_TEXT_FIELDS = {"name", "email", "phone", "company_name", "address", "notes", "tags", "aliases"}
_TEXT_INDEXES = [i for i, key in enumerate(EXPORT_FIELDS) if key in _TEXT_FIELDS]


def _aliases(session: Session) -> Subquery:
    """Per kept customer, the addresses merged into it joined by ", ": one GROUP BY that
    the export joins (a subquery per row would cost an index probe per customer)."""
    alias = aliased(Customer)
    if session.get_bind().dialect.name == "postgresql":
        joined = func.string_agg(
            alias.email, aggregate_order_by(literal(", "), alias.email_normalized)
        )
    else:
        joined = func.group_concat(alias.email, ", ")
    return (
        select(alias.merged_into_id.label("kept_id"), joined.label("aliases"))
        .where(alias.merged_into_id.is_not(None))
        .group_by(alias.merged_into_id)
        .subquery()
    )


def export_select(session: Session, wanted: CustomerFilter, cell: CellOf) -> Select[Any]:
    """SELECT of the export's cells (``cell(key, column)`` shapes each), oldest first."""
    aliases = _aliases(session)
    columns = [
        cell(
            key,
            func.coalesce(aliases.c.aliases, "") if key == "aliases" else getattr(Customer, key),
        )
        for key in EXPORT_FIELDS
    ]
    return (
        select(*columns)
        .select_from(Customer)
        .outerjoin(aliases, aliases.c.kept_id == Customer.id)
        .where(filter_condition(session, wanted))
        .order_by(Customer.created_at, Customer.id)
    )


def stream_customer_rows(session: Session, wanted: CustomerFilter) -> Iterator[tuple[Any, ...]]:
    """Tuples in EXPORT_FIELDS order, oldest customer first, read CHUNK rows at a time."""
    statement = export_select(session, wanted, lambda key, column: column).execution_options(
        yield_per=CHUNK
    )
    for partition in session.execute(statement).partitions():
        yield from (tuple(row) for row in partition)


def neutralised(text: str) -> str:
    """The cell as a spreadsheet shows it but never runs it."""
    return "'" + text if text.startswith(ESCAPED_STARTS) else text


def _csv_time(moment: datetime | None, excel: bool) -> str:
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if excel else "%Y-%m-%dT%H:%M:%SZ")


def _csv_cells(row: tuple[Any, ...], excel: bool) -> list[Any]:
    (ident, name, email, phone, company, address, notes, tags, status, aliases,
     leads, bookings, revenue, last_contact, created, updated) = row  # fmt: skip
    cells: list[Any] = [
        ident,
        name,
        email,
        phone,
        company,
        address,
        notes,
        ", ".join(tags or ()),
        str(status),
        aliases,
        leads,
        bookings,
        f"{revenue:.2f}".replace(".", ",") if excel else f"{revenue:.2f}",
        _csv_time(last_contact, excel),
        _csv_time(created, excel),
        _csv_time(updated, excel),
    ]
    for index in _TEXT_INDEXES:
        value = cells[index]
        if value and value.startswith(ESCAPED_STARTS):
            cells[index] = "'" + value
    return cells


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, list):
        return list(value)
    if value is not None and not isinstance(value, (int, str)):
        return str(value)
    return value


def write_customers(
    session: Session,
    out: BinaryIO,
    wanted: CustomerFilter,
    *,
    fmt: ExportFormat = "csv",
    excel: bool = False,
) -> Iterator[int]:
    """Write the customers to ``out`` as UTF-8; yields the running count after each chunk.

    With ``excel`` the file starts with the byte-order mark Excel needs to read UTF-8.
    """
    filter_condition(session, wanted)  # a bad filter is refused before a byte is written
    if excel:
        out.write(codecs.BOM_UTF8)
    if fmt == "csv" and session.get_bind().dialect.name == "postgresql":
        from crm_core.transfer.copy_export import copy_customers_csv

        yield from copy_customers_csv(session, out, wanted, excel=excel, chunk=CHUNK)
        return
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        yield from _write_rows(stream_customer_rows(session, wanted), text, fmt, excel)
    finally:
        text.flush()
        text.detach()  # the caller's stream stays open


def _write_rows(
    rows: Iterator[tuple[Any, ...]], out: TextIO, fmt: ExportFormat, excel: bool
) -> Iterator[int]:
    written = 0
    if fmt == "jsonl":
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        for row in rows:
            record = {
                key: _json_value(value) for key, value in zip(EXPORT_FIELDS, row, strict=True)
            }
            out.write(encode(record) + "\n")
            written += 1
            if written % CHUNK == 0:
                yield written
        yield written
        return
    # CRLF (RFC 4180) also makes the writer quote a cell holding a lone "\r".
    writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADERS)
    batch: list[list[Any]] = []
    for row in rows:
        batch.append(_csv_cells(row, excel))
        if len(batch) == CHUNK:
            writer.writerows(batch)
            written += len(batch)
            batch.clear()
            yield written
    writer.writerows(batch)
    yield written + len(batch)
