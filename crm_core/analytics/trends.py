"""Month by month: leads by source, quotes sent and accepted, bookings, revenue and the
median time to our first reply. The report behind ``crm report trends``.

Months are calendar months in UTC, keyed "YYYY-MM" by the database itself
(``month_of``: ``to_char`` on PostgreSQL, ``strftime`` on SQLite), so each figure is
one GROUP BY over the rows of the window, never a scan in Python. Each event counts
in the month it happened: a lead when its email came, a quote when it was sent or
accepted, a booking when it was made, revenue when its quote was accepted. The median
reply time is taken in Python from the leads of the window (medians have no portable
SQL aggregate), and counts leads we answered; unanswered leads are counted beside it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from crm_core.errors import ValidationError
from crm_core.models import Booking, Lead, Quote
from crm_core.models.types import utcnow
from crm_core.scoring.facts import first_reply_at
from crm_core.statuses import BookingStatus, QuoteStatus

MAX_MONTHS = 120


class month_of(FunctionElement[str]):  # noqa: N801 (an SQL function, named like one)
    """The "YYYY-MM" (UTC) of a timestamp column, on either database."""

    type = String()
    name = "month_of"
    inherit_cache = True


@compiles(month_of, "postgresql")
def _month_pg(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"strftime('%Y-%m', {column})"  # stored as naive UTC text


@dataclass
class MonthTrend:
    month: str  # "2025-10"
    leads_by_source: dict[str, int] = field(default_factory=dict)
    quotes_sent: int = 0
    quotes_accepted: int = 0
    bookings: int = 0
    revenue: Decimal = Decimal("0.00")
    median_first_reply: timedelta | None = None
    unanswered: int = 0  # leads of the month with no reply (yet)

    @property
    def leads(self) -> int:
        return sum(self.leads_by_source.values())


def month_keys(months: int, now: datetime) -> list[str]:
    """The last ``months`` calendar months up to and including ``now``'s, oldest first."""
    year, month = now.year, now.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


def _start_of(key: str, now: datetime) -> datetime:
    year, month = (int(part) for part in key.split("-"))
    return now.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _grouped(
    session: Session, column: Any, since: datetime, *where: ColumnElement[bool]
) -> dict[str, int]:
    key = month_of(column)
    statement = select(key, func.count()).where(column >= since, *where).group_by(key)
    return {month: int(count) for month, count in session.execute(statement)}


def monthly_trends(
    session: Session, months: int = 12, now: datetime | None = None
) -> list[MonthTrend]:
    """One row per month, oldest first, for the last ``months`` months (1–120)."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationError(f"months must be between 1 and {MAX_MONTHS}, got {months}")
    now = now or utcnow()
    keys = month_keys(months, now)
    since = _start_of(keys[0], now)
    rows = {key: MonthTrend(key) for key in keys}

    lead_month = month_of(Lead.created_at)
    for month, source, count in session.execute(
        select(lead_month, func.lower(Lead.source), func.count())
        .where(Lead.created_at >= since)
        .group_by(lead_month, func.lower(Lead.source))
    ):
        if month in rows:
            rows[month].leads_by_source[source or "unknown"] = int(count)

    sent = _grouped(session, Quote.sent_at, since)
    accepted = _grouped(session, Quote.accepted_at, since, Quote.status == QuoteStatus.ACCEPTED)
    booked = _grouped(session, Booking.created_at, since, Booking.status != BookingStatus.CANCELLED)
    revenue_month = month_of(Quote.accepted_at)
    revenue = dict(
        session.execute(
            select(revenue_month, func.sum(Quote.total))
            .where(Quote.accepted_at >= since, Quote.status == QuoteStatus.ACCEPTED)
            .group_by(revenue_month)
        ).all()
    )
    for key, row in rows.items():
        row.quotes_sent = sent.get(key, 0)
        row.quotes_accepted = accepted.get(key, 0)
        row.bookings = booked.get(key, 0)
        row.revenue = Decimal(str(revenue.get(key) or 0)).quantize(Decimal("0.01"))

    waits: dict[str, list[timedelta]] = defaultdict(list)
    for month, received, replied in session.execute(_first_replies(since)):
        if month not in rows:
            continue
        if replied is None:
            rows[month].unanswered += 1
        else:
            waits[month].append(_aware(replied) - received)
    for key, values in waits.items():
        rows[key].median_first_reply = _median(values)
    return [rows[key] for key in keys]


def _first_replies(since: datetime) -> Any:
    first = first_reply_at()
    return select(month_of(Lead.created_at), Lead.created_at, first).where(Lead.created_at >= since)


def _median(values: list[timedelta]) -> timedelta:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
