"""Fresh planner statistics while an import grows the customers table (PostgreSQL).

An import into a young database can multiply the table many times over within a minute,
before autovacuum gets round to ANALYZE. The planner then kept planning the batch's
lookup of stored addresses (then ``email_normalized IN (…1,000 values)``) for the small
table it last measured: psycopg prepares the repeated statement and PostgreSQL settles on a
generic plan, a sequential scan comparing every row with each of the 1,000 values. At
88,000 rows that one SELECT took 3.5 s per batch and the import of 100,000 new rows 57
s instead of 12 (bench/RESULTS.md). ANALYZE each time the table has doubled since it was
last measured costs a few hundred milliseconds over a whole import, and it also
invalidates the cached plan.

Only the columns the import's own lookups filter on are measured: at 80,000 customers,
ANALYZE of the whole table took 149 ms and of those columns 56 ms
(bench/import_steps.py). A partial ANALYZE leaves autovacuum's count of changed rows as
it was, so autovacuum still measures the whole table, and the tag pairs, soon after.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_core.planner import row_estimate

# Below this, a sequential scan is as good as any plan: no ANALYZE for small imports.
_MIN_GROWTH = 5_000


class TableGrowth:
    """Counts the rows an import adds to ``table`` and has PostgreSQL measure its
    ``columns`` again whenever they reach the table's size at the last measurement."""

    def __init__(self, table: str, *columns: str) -> None:
        self._table = table
        self._analyze = f'ANALYZE "{table}" ({", ".join(columns)})'
        self._measured: float | None = None  # rows at the last ANALYZE
        self._added = 0

    def added(self, session: Session, rows: int) -> None:
        if rows == 0 or session.get_bind().dialect.name != "postgresql":
            return
        if self._measured is None:
            self._measured = row_estimate(session, self._table)
        self._added += rows
        if self._added >= max(_MIN_GROWTH, self._measured):
            session.execute(text(self._analyze))
            self._measured = row_estimate(session, self._table)
            self._added = 0
