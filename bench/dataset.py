"""A CRM of any size, made fast through the real schema (bench/scale.py).

For ``n`` customers: 10 % tagged ``vip`` (and a few ``erhverv``), 90 % active, 0.3 n
leads (80 % linked), n conversations with 2 n messages (5 % AI-written, from three
models), 0.15 n quotes and 0.08 n bookings. Rows are generated in Python in one pass
and loaded with COPY on PostgreSQL (about 300,000 rows a second here) or executemany
on SQLite; ids are deterministic and scattered like real ones, so the same ``n``
always gives the same data. The customers' figures are left at zero, as a stale
starting point for the stats recomputation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crm_core.analytics.ai_counts import recount_ai_messages

BASE = datetime(2026, 11, 1, tzinfo=UTC)
MAILBOX = "info@rendetalje.dk"
AI_MODELS = ("gpt-4o", "claude-sonnet", "gemini-pro")
Row = tuple[Any, ...]


def row_id(prefix: str, n: int) -> str:
    """A 25-character id: the prefix and 24 hex digits of a multiplicative hash."""
    return f"{prefix}{(n * 0x9E3779B97F4A7C15 + 0x1234567) % 16**24:024x}"


def customer_id(i: int) -> str:
    return row_id("c", i)


def customer_email(i: int) -> str:
    return f"kunde{i}@example.dk"


def conversation_id(i: int) -> str:
    return row_id("v", i)


def thread_id(i: int) -> str:
    return f"{i:016x}"


def message_gmail_id(i: int) -> str:
    return f"m{i:015x}"


def _at(step: int, scale: int) -> datetime:
    """Spread ``scale`` rows over five years up to BASE; higher step = newer."""
    return BASE - timedelta(seconds=(scale - step) * (5 * 365 * 86400 // max(scale, 1)))


CUSTOMER_COLUMNS = [
    "id", "name", "email", "email_normalized", "phone", "status", "tags", "total_leads",
    "total_bookings", "total_revenue", "last_contact_at", "created_at", "updated_at",
]  # fmt: skip


def customers(n: int) -> Iterator[Row]:
    for i in range(n):
        at = _at(i, n)
        status = "blocked" if i % 100 == 7 else "inactive" if i % 100 < 7 else "active"
        tags = ["vip"] if i % 10 == 3 else ["erhverv"] if i % 50 == 1 else []
        email = customer_email(i)
        yield (
            customer_id(i), f"Kunde {i}", email, email, f"+45{20000000 + i}", status, tags,
            0, 0, Decimal("0"), at + timedelta(days=30), at, at,
        )  # fmt: skip


LEAD_COLUMNS = [
    "id", "source", "name", "email", "status", "customer_id", "created_at", "updated_at",
]  # fmt: skip
LEAD_STATUSES = ("new", "contacted", "quoted", "won", "lost")


def leads(n: int) -> Iterator[Row]:
    count = n * 3 // 10
    for i in range(count):
        owner = (i * 3) % n
        at = _at(i, count)
        linked = customer_id(owner) if i % 5 else None
        yield (
            row_id("l", i), "rengoring.nu" if i % 2 else "leadpoint", f"Kunde {owner}",
            customer_email(owner), LEAD_STATUSES[i % 5], linked, at, at,
        )  # fmt: skip


CONVERSATION_COLUMNS = [
    "id", "customer_id", "lead_id", "subject", "channel", "status", "mailbox",
    "gmail_thread_id", "last_contact_at", "created_at", "updated_at",
]  # fmt: skip


def conversations(n: int) -> Iterator[Row]:
    lead_count = n * 3 // 10
    for i in range(n):
        at = _at(i, n)
        lead = row_id("l", i) if i < lead_count and i % 3 == 0 else None
        yield (
            conversation_id(i), customer_id((i * 7) % n), lead, f"Rengøring nr. {i}", "email",
            "closed" if i % 4 == 0 else "active", MAILBOX, thread_id(i),
            at + timedelta(hours=2), at, at,
        )  # fmt: skip


MESSAGE_COLUMNS = [
    "id", "conversation_id", "mailbox", "gmail_message_id", "gmail_thread_id",
    "rfc822_message_id", "from_address", "to_address", "subject", "body", "body_preview",
    "attachments", "direction", "status", "is_ai_generated", "ai_model", "sent_at",
    "created_at", "updated_at",
]  # fmt: skip


def messages(n: int) -> Iterator[Row]:
    for i in range(2 * n):
        conversation = i // 2
        outbound = i % 2 == 1
        at = _at(conversation, n) + timedelta(hours=i % 2 + 1)
        customer = customer_email((conversation * 7) % n)
        ai = outbound and i % 20 == 1
        body = f"Hej, kan I gøre rent hos mig den {i % 28 + 1}.? Venlig hilsen" + " x" * (i % 40)
        yield (
            row_id("m", i), conversation_id(conversation), MAILBOX, message_gmail_id(i),
            thread_id(conversation), f"<{i}@example.dk>",
            MAILBOX if outbound else customer, customer if outbound else MAILBOX,
            f"Rengøring nr. {conversation}", body, body[:200], [],
            "outbound" if outbound else "inbound", "sent", ai,
            AI_MODELS[i % 3] if ai and i % 7 else None, at, at, at,
        )  # fmt: skip


QUOTE_COLUMNS = [
    "id", "lead_id", "customer_id", "total", "status", "created_at", "updated_at",
]  # fmt: skip
QUOTE_STATUSES = ("draft", "sent", "accepted", "rejected")


def quotes(n: int) -> Iterator[Row]:
    count = n * 15 // 100
    lead_count = n * 3 // 10
    for i in range(count):
        at = _at(i, count)
        on_lead = i % 3 != 0
        yield (
            row_id("q", i), row_id("l", (i * 2) % lead_count) if on_lead else None,
            None if on_lead else customer_id((i * 11) % n), Decimal(1000 + i % 9000),
            QUOTE_STATUSES[i % 4], at, at,
        )  # fmt: skip


BOOKING_COLUMNS = [
    "id", "customer_id", "lead_id", "scheduled_at", "status", "created_at", "updated_at",
]  # fmt: skip
BOOKING_STATUSES = ("scheduled", "completed", "cancelled")


def bookings(n: int) -> Iterator[Row]:
    count = n * 8 // 100
    lead_count = n * 3 // 10
    for i in range(count):
        at = _at(i, count)
        on_lead = i % 2 == 0
        yield (
            row_id("b", i), None if on_lead else customer_id((i * 13) % n),
            row_id("l", (i * 3) % lead_count) if on_lead else None, at + timedelta(days=14),
            BOOKING_STATUSES[i % 3], at, at,
        )  # fmt: skip


TABLES: list[tuple[str, list[str], Callable[[int], Iterator[Row]]]] = [
    ("customers", CUSTOMER_COLUMNS, customers),
    ("leads", LEAD_COLUMNS, leads),
    ("conversations", CONVERSATION_COLUMNS, conversations),
    ("email_messages", MESSAGE_COLUMNS, messages),
    ("quotes", QUOTE_COLUMNS, quotes),
    ("bookings", BOOKING_COLUMNS, bookings),
]


def load(engine: Engine, n: int) -> dict[str, int]:
    """Insert the dataset for ``n`` customers into an empty, migrated database;
    returns the row count per table. Analyses the tables on PostgreSQL."""
    counts: dict[str, int] = {}
    raw = engine.raw_connection()
    try:
        for table, columns, rows in TABLES:
            if engine.dialect.name == "postgresql":
                counts[table] = _copy(raw.driver_connection, table, columns, rows(n))
            else:
                counts[table] = _insert_sqlite(raw.driver_connection, table, columns, rows(n))
        raw.commit()
        with Session(engine) as session, session.begin():
            recount_ai_messages(session)  # the rows went in without the services
        if engine.dialect.name == "postgresql":
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            # customer_tags is filled by the customers' insert trigger.
            for table in [*(table for table, _, _ in TABLES), "customer_tags"]:
                raw.cursor().execute(f"VACUUM ANALYZE {table}")
        else:
            raw.cursor().execute("ANALYZE")
    finally:
        raw.close()
    return counts


def _copy(connection: Any, table: str, columns: Sequence[str], rows: Iterator[Row]) -> int:
    count = 0
    json_column = columns.index("attachments") if "attachments" in columns else -1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                if json_column >= 0:
                    row = (
                        *row[:json_column],
                        json.dumps(row[json_column]),
                        *row[json_column + 1 :],
                    )
                copy.write_row(row)
                count += 1
    return count


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _insert_sqlite(connection: Any, table: str, columns: Sequence[str], rows: Iterator[Row]) -> int:
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    batch: list[Row] = []
    count = 0
    cursor = connection.cursor()
    if not connection.in_transaction:
        cursor.execute("BEGIN")  # the engine's connections are in autocommit mode
    for row in rows:
        batch.append(tuple(_sqlite_value(value) for value in row))
        if len(batch) == 5000:
            cursor.executemany(statement, batch)
            count += len(batch)
            batch = []
    cursor.executemany(statement, batch)
    return count + len(batch)
