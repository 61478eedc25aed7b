"""``column + N days`` in SQL on both databases (PostgreSQL intervals, SQLite datetime())."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.roles import ExpressionElementRole

from crm_core.models.types import UTCDateTime


class plus_days(FunctionElement[Any]):  # noqa: N801 - used like a SQL function
    """``plus_days(column, 7)``: the timestamp seven days later, comparable to columns."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, column: ExpressionElementRole[Any], days: int) -> None:
        self.days = int(days)
        super().__init__(column)


@compiles(plus_days, "postgresql")
def _postgresql(element: plus_days, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} + interval '{element.days} days')"


@compiles(plus_days, "sqlite")
def _sqlite(element: plus_days, compiler: Any, **kw: Any) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); the same text form, so they compare.
    column = compiler.process(element.clauses, **kw)
    return f"strftime('%Y-%m-%d %H:%M:%f000', {column}, '+{element.days} days')"
