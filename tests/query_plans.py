"""What a read sends to the database, and how PostgreSQL plans and runs it.

``captured`` records every statement a block of code executes on an engine (with its
parameters, as the driver got them), so a service function can be explained without
copying its SQL. Used by the plan guard in tests/core/test_query_plans.py and by
bench/scale.py to time each read inside the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any


@contextmanager
def captured(engine: Engine) -> Iterator[list[Statement]]:
    """The statements executed on ``engine`` inside the block (SAVEPOINTs left out)."""
    statements: list[Statement] = []

    def record(
        _conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        if not many and sql.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE")):
            statements.append(Statement(sql, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explain(engine: Engine, statement: Statement, *, analyze: bool = False) -> dict[str, Any]:
    """PostgreSQL's JSON plan of one captured statement (run, and rolled back, when
    ``analyze``)."""
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"EXPLAIN ({options}) {statement.sql}", statement.parameters)
        row = cursor.fetchone()
        assert row is not None
        plan: dict[str, Any] = row[0][0]
        raw.rollback()
    finally:
        raw.close()
    return plan


def scanned_tables(plan: dict[str, Any]) -> set[str]:
    """Tables the plan reads with a sequential scan."""
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Seq Scan":
            found.add(str(node.get("Relation Name")))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return found
