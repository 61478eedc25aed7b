"""The AI-emails report and the stats recomputation at a million customers, before and
after migration 0013, in one run (bench/RESULTS.md, issue: fast at a million customers).

    python -m bench.scale build --schema crm_bench_scale2    # the dataset, once
    python -m bench.scale_misses --schema crm_bench_scale2   # migrates it to head first

AI-emails report: the statement the report sent before (a count of the AI-written
messages through their partial index) and the report now (the counts kept per model),
samples interleaved, each read's time inside PostgreSQL (EXPLAIN ANALYZE, as
bench/scale.py measures) and through the Python API.

Stats: ``recompute_all_stats`` is the same statement before and after; what changed is
the room left on the customers' pages (fillfactor 100 before, 70 after). For each, the
figures are zeroed, the table rewritten at that fillfactor (VACUUM FULL, as a fresh
load would leave it) and the figures recomputed twice: from stale figures, then once
they are right. Wall time, the PostgreSQL backend's CPU seconds, and how many of the
rows written were HOT updates (no index entry written). The table is left at 70.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select, text, true
from sqlalchemy.orm import Session

from bench.common import PG_URL, append_result, machine, today
from bench.scale import SCHEMA, _backend_cpu, database_ms, record_read
from crm_core.analytics import ai_emails_page
from crm_core.db import make_engine, make_session_factory, transaction
from crm_core.models import EmailMessage
from crm_core.stats import recompute_all_stats
from migrations import upgrade
from tests.query_plans import captured

SAMPLES = 100


def _counted_from_messages(session: Session) -> object:
    """The report's statement before migration 0013."""
    model = func.coalesce(EmailMessage.ai_model, "unknown")
    return session.execute(
        select(model, func.count())
        .where(EmailMessage.is_ai_generated == true())
        .group_by(model)
        .order_by(func.count().desc(), model)
        .limit(50)
    ).all()


def measure_ai_emails(engine: Engine, n: int, before: str, after: str) -> None:
    sessions = make_session_factory(engine)
    reads: dict[str, Callable[[Session], object]] = {
        before: _counted_from_messages,
        after: lambda session: ai_emails_page(session),
    }
    inside: dict[str, list[float]] = {label: [] for label in reads}
    api: dict[str, list[float]] = {label: [] for label in reads}
    order = list(reads)
    rng = random.Random(13)
    for _ in range(SAMPLES):
        rng.shuffle(order)
        for label in order:
            with sessions() as session, captured(engine) as statements:
                started = time.perf_counter()
                reads[label](session)
                api[label].append((time.perf_counter() - started) * 1000)
                session.rollback()
            inside[label].append(database_ms(engine, statements))
    for label in reads:
        record_read("postgresql", n, label, "report AI emails by model", inside[label], api[label])


def _autocommit(engine: Engine, *statements: str) -> None:
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for statement in statements:
            connection.execute(text(statement))


def _written(session: Session) -> tuple[int, int]:
    """Rows of customers this transaction updated, and how many of them HOT."""
    row = session.execute(
        text(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE relid = 'customers'::regclass"
        )
    ).one()
    return int(row[0]), int(row[1])


def measure_stats(engine: Engine, n: int, labels: dict[int, str]) -> None:
    sessions = make_session_factory(engine)
    for fillfactor, label in labels.items():
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE customers SET total_leads = 0, total_bookings = 0, total_revenue = 0")
            )
        _autocommit(
            engine,
            f"ALTER TABLE customers SET (fillfactor = {fillfactor})",
            "VACUUM FULL customers",
            "ANALYZE customers",
        )
        for case in ("stale figures", "figures already right"):
            started = time.perf_counter()
            with transaction(sessions) as session:
                backend = _backend_cpu(session)
                recompute_all_stats(session)
                cpu = _backend_cpu(session) - backend
                updated, hot = _written(session)
            seconds = time.perf_counter() - started
            written = f"{updated:,} rows written, {hot / updated:.0%} HOT" if updated else "none"
            row = [
                today(), machine(), "postgresql", f"{n:,}", label, f"{case} ({written})",
                f"{n:,}", f"{seconds:.2f}", f"{cpu:.2f}", f"{os.getloadavg()[0]:.1f}",
            ]  # fmt: skip
            print(" | ".join(row[4:]), flush=True)
            append_result(
                "Scale: stats recomputation, wall and database CPU (bench/scale.py)",
                ["date", "machine", "database", "customers", "code", "case", "customers",
                 "wall s", "database CPU s", "load average"],
                row,
            )  # fmt: skip
            _autocommit(engine, "VACUUM customers")  # as autovacuum would between runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default=SCHEMA, help="where bench/scale.py built it")
    parser.add_argument("--before", default="before", help="label of the code before")
    parser.add_argument("--after", default="after", help="label of the code after")
    parser.add_argument("--skip", default="", help="comma list of: ai,stats")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    upgrade(PG_URL, schema=args.schema)
    engine = make_engine(PG_URL, schema=args.schema)
    try:
        with engine.connect() as connection:
            n: Any = connection.execute(text("SELECT count(*) FROM customers")).scalar_one()
        if "ai" not in skip:
            measure_ai_emails(engine, int(n), args.before, args.after)
        if "stats" not in skip:
            measure_stats(
                engine,
                int(n),
                {100: f"{args.before} (fillfactor 100)", 70: f"{args.after} (fillfactor 70)"},
            )
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
