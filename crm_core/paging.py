"""One page of a list, how many there are in all, and where the next page starts.

Every list and report shows a bounded page and says how many rows there are in all.
Counting a million rows exactly on every list would cost more than the page itself
(a full index scan, about 60 ms at a million customers), so ``count_rows`` counts
exactly up to ``COUNT_CAP`` rows and above that takes PostgreSQL's planner estimate,
which the output states as "about". SQLite has no estimate: above the cap it says
"more than 1,000" (counting 100,000 customers exactly took 100 ms there, and a tag
filter on them 900 ms).

Pages follow a keyset: the rows are ordered by key columns that end in a unique one,
all descending, and the next page starts after the last row's key (``--after
CURSOR``), so page 1,000 costs what page 1 costs, and rows added meanwhile do not
shift the pages.

    page = paginate(session, select(Lead).where(...), keys=[Lead.created_at, Lead.id],
                    limit=50, after=cursor)
    page.items, page.total, page.next_after

Limits and offsets are bounded (``checked_limit``, ``checked_offset``): both end up as
SQL integers, which SQLite refuses past 2**63 - 1 with an OverflowError and PostgreSQL
with an out-of-range error, and a page is read into memory.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Select, func, literal_column, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from crm_core.errors import ValidationError

T = TypeVar("T")

COUNT_CAP = 1000
DEFAULT_LIMIT = 50
MAX_LIMIT = 1_000_000
MAX_OFFSET = 2**63 - 1


def checked_limit(limit: int | None) -> int | None:
    """``limit`` when it is 1 … MAX_LIMIT (None: no limit), else ValidationError."""
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT:,}, got {limit}")
    return limit


def checked_offset(offset: int) -> int:
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationError(f"offset must be zero or more (and fit in 64 bits), got {offset}")
    return offset


if TYPE_CHECKING:
    AnySelect = Select[*tuple[Any, ...]]  # a select of any columns


@dataclass(frozen=True, slots=True)
class Total:
    """How many rows a list has in all: exact, or the planner's estimate."""

    count: int
    exact: bool = True
    at_least: bool = False  # SQLite above the cap: more than ``count``, no estimate

    def __str__(self) -> str:
        if self.exact:
            return f"{self.count:,}"
        return f"more than {self.count:,}" if self.at_least else f"about {self.count:,}"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: Total
    next_after: str | None = None  # the cursor of the next page; None on the last one

    def __len__(self) -> int:
        return len(self.items)

    @property
    def complete(self) -> bool:
        """The page holds every row there is."""
        return self.next_after is None and self.total.exact and self.total.count == len(self)


def count_rows(
    session: Session,
    statement: AnySelect,
    cap: int = COUNT_CAP,
    *,
    estimate: AnySelect | None = None,
) -> Total:
    """The number of rows ``statement`` selects: exact up to ``cap``, estimated above.

    Give the statement with the list's order: the index that serves the list then
    serves the count too. ``estimate``, when given, is a simpler statement selecting
    about as many rows, for conditions the planner estimates badly (e.g. EXISTS).
    """
    statement = statement.limit(None).offset(None)
    # The first cap + 1 rows in the list's own order, which its index serves, without
    # columns, so that an index-only scan can count them.
    rows: AnySelect = statement.with_only_columns(literal_column("1"), maintain_column_froms=True)
    bounded = select(func.count()).select_from(rows.limit(cap + 1).subquery())
    counted = int(session.execute(bounded).scalar_one())
    if counted <= cap:
        return Total(counted)
    if session.get_bind().dialect.name != "postgresql":
        return Total(cap, exact=False, at_least=True)
    rows_estimated = _planner_rows(
        session, (statement if estimate is None else estimate).order_by(None)
    )
    return Total(max(_round(rows_estimated), cap + 1), exact=False)


def _planner_rows(session: Session, statement: AnySelect) -> int:
    compiled = statement.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    plan = (
        session.connection()
        .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
        .scalar_one()
    )
    return int(plan[0]["Plan"]["Plan Rows"])


def _round(count: int) -> int:
    """Two significant digits: an estimate should not look exact."""
    digits = len(str(count)) - 2
    return round(count, -digits) if digits > 0 else count


def paginate(
    session: Session,
    statement: Select[T],
    *,
    keys: Sequence[InstrumentedAttribute[Any]],
    limit: int | None = DEFAULT_LIMIT,
    after: str | None = None,
    count_cap: int = COUNT_CAP,
) -> Page[T]:
    """A page of ``statement``'s entities, newest key first, after the ``after`` cursor.

    ``keys`` order the rows, all descending, and must end in a unique column. ``limit``
    None returns every row (for ``--all``).
    """
    checked_limit(limit)
    ordered = statement.order_by(*(key.desc() for key in keys))
    page = ordered
    if after is not None:
        page = page.where(tuple_(*keys) < tuple_(*decode_cursor(after, len(keys))))
    if limit is not None:
        page = page.limit(limit + 1)
    items = list(session.execute(page).scalars())
    following = None
    if limit is not None and len(items) > limit:
        items = items[:limit]
        following = encode_cursor([getattr(items[-1], key.key) for key in keys])
    if after is None and following is None:
        return Page(items, Total(len(items)))  # the first page holds them all
    return Page(items, count_rows(session, ordered, count_cap), following)


def first_page(
    session: Session,
    statement: AnySelect,
    *,
    limit: int | None = DEFAULT_LIMIT,
    count_cap: int = COUNT_CAP,
    estimate: AnySelect | None = None,
) -> Page[Any]:
    """The first ``limit`` rows of an ordered statement (every row when None), with the
    total: for reports, which are read from the top and lifted with ``--all``. A
    statement of one entity gives entities, any other gives rows."""
    result = session.execute(statement if checked_limit(limit) is None else statement.limit(limit))
    entity = len(statement.column_descriptions) == 1 and isinstance(
        statement.column_descriptions[0]["expr"], type
    )
    items = list(result.scalars()) if entity else list(result)
    if limit is None or len(items) < limit:
        return Page(items, Total(len(items)))  # the page holds them all: nothing to count
    return Page(items, count_rows(session, statement, count_cap, estimate=estimate))


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque, URL-safe cursor holding a row's key values."""
    data = json.dumps([_plain(value) for value in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor.strip() + "=" * (-len(cursor.strip()) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError(cursor)
        return [_typed(value) for value in values]
    except (ValueError, ArithmeticError):  # bad base64, JSON, date or amount
        raise ValidationError(
            f"invalid cursor {cursor!r}: use the one printed after the previous page"
        ) from None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and "t" in value:
        return datetime.fromisoformat(value["t"])
    if isinstance(value, dict) and "d" in value:
        return Decimal(value["d"])
    if value is None or isinstance(value, dict | list):
        raise ValueError(value)
    return value
