"""Where an import of customers spends its time, step by step (PostgreSQL).

    python -m bench.import_steps [--rows 100000]

- steps: ``crm customer import`` of bench.customer_csv's generated file into an empty
  schema, in this process, with timers (wall and this process's CPU) around its steps:
  checking rows, looking stored customers up, building new rows, the COPY and INSERT,
  the ANALYZE as the table grows. The CPU seconds of the PostgreSQL backend that served
  it come from /proc: the importer's and the server's seconds added up are about the
  wall time when the two wait on each other.
- analyze: ANALYZE of the whole customers table against ANALYZE of the columns an
  import looks customers up by (``LOOKUP_COLUMNS``), at 80,000 customers.
- lookup: the import's lookup of 2,000 stored addresses in one ``= ANY(array)``
  statement at 20,000, 100,000 and 1,000,000 customers: its time after eight runs
  (psycopg has prepared it by then) and the plan PostgreSQL chose.

Printed only: bench/RESULTS.md quotes these where it explains the import's figures.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from bench import customer_csv
from bench.common import OUT, PG_DSN, drop_schema, fresh_schema
from crm_core.transfer import importing, table_growth
from crm_core.transfer.importing import LOOKUP_COLUMNS
from worker.cli import customer_transfer

WALL: dict[str, float] = defaultdict(float)
CPU: dict[str, float] = defaultdict(float)


def _timed(owner: Any, name: str) -> None:
    step: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(step)
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return step(*args, **kwargs)
        finally:
            WALL[name] += time.perf_counter() - wall
            CPU[name] += time.process_time() - cpu

    setattr(owner, name, timed)


def _server_cpu_seconds() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process on this machine, by pid."""
    seconds = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                seconds[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return seconds


def steps(rows: int) -> None:
    for name in ("_existing", "_by_id", "_new_row", "copy_insert_ignore_returning"):
        _timed(importing, name)
    _timed(customer_transfer, "check_row")
    _timed(customer_transfer, "import_batch")
    _timed(table_growth.TableGrowth, "added")
    OUT.mkdir(exist_ok=True)
    schema = fresh_schema(f"bench_steps_{uuid.uuid4().hex[:8]}")
    source = customer_csv.import_file(OUT / "import-steps.csv", rows)
    try:
        before = _server_cpu_seconds()
        wall, cpu = time.perf_counter(), time.process_time()
        customer_csv.crm(schema, "customer", "import", str(source))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = _server_cpu_seconds()
        server = sum(after[pid] - before.get(pid, 0.0) for pid in after)
    finally:
        drop_schema(schema)
        source.unlink(missing_ok=True)
    print(f"import of {rows:,} new customers: wall {wall:.2f} s, importer CPU {cpu:.2f} s,")
    print(f"  PostgreSQL CPU {server:.2f} s (every postgres process of the machine)")
    for name in WALL:
        print(f"  {name:30} wall {WALL[name]:6.2f} s   CPU {CPU[name]:6.2f} s")


def analyze() -> None:
    schema = fresh_schema(f"bench_analyze_{uuid.uuid4().hex[:8]}")
    try:
        customer_csv.build_customers(schema, 80_000)
        with psycopg.connect(PG_DSN, autocommit=True) as db:
            db.execute(f'SET search_path TO "{schema}"')
            for statement in (
                "ANALYZE customers",
                f"ANALYZE customers ({', '.join(LOOKUP_COLUMNS)})",
            ):
                timings = []
                for _ in range(3):
                    started = time.perf_counter()
                    db.execute(statement)
                    timings.append((time.perf_counter() - started) * 1000)
                print(f"{statement}: {sorted(timings)[1]:.0f} ms (median of 3, 80,000 customers)")
    finally:
        drop_schema(schema)


LOOKUP = "SELECT id FROM customers WHERE email_normalized = ANY(CAST(%s AS VARCHAR[]))"


def lookup() -> None:
    for count in (20_000, 100_000, 1_000_000):
        schema = fresh_schema(f"bench_lookup_{uuid.uuid4().hex[:8]}")
        try:
            customer_csv.build_customers(schema, count)
            with psycopg.connect(PG_DSN) as db:
                db.execute(f'SET search_path TO "{schema}"')
                wanted = [f"kunde.{n}@example.dk" for n in range(1, count, count // 2000)][:2000]
                for _ in range(8):
                    started = time.perf_counter()
                    found = db.execute(LOOKUP, (wanted,)).fetchall()
                    elapsed = (time.perf_counter() - started) * 1000
                plan = db.execute("EXPLAIN " + LOOKUP, (wanted,)).fetchone()
                print(
                    f"{count:>9,} customers: {len(found):,} of 2,000 found in {elapsed:.1f} ms;"
                    f" {str(plan[0] if plan else '').split('  (')[0]}"
                )
        finally:
            drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--parts", default="steps,analyze,lookup")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "steps" in parts:
        steps(args.rows)
    if "analyze" in parts:
        analyze()
    if "lookup" in parts:
        lookup()


if __name__ == "__main__":
    main()
