"""Reads, reports and stats at a million customers (issue: fast at a million customers).

    python -m bench.scale                    # build 1,000,000 on PostgreSQL, measure, drop
    python -m bench.scale --customers 100000 --sqlite
    python -m bench.scale build | measure | drop   # the steps one at a time (schema kept)

The dataset (bench/dataset.py) goes into a schema of its own in the test database,
migrated with the project's migrations. Then, for every read in bench/scale_reads.py:
p50 and p99 inside the database (the sum of EXPLAIN ANALYZE execution times of the
statements the read sends; on SQLite the time to run those statements) and through the
Python API (the call's wall time, ORM included); for every ``crm`` command its wall
time as a process; and ``recompute_all_stats`` from stale figures and again once they
are right. Each read runs until 100 samples or a 20 s budget, whichever comes first
(the samples column says how many); each command up to 10 runs or 20 s. Rows go to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench import dataset
from bench.common import PG_URL, append_result, drop_schema, fresh_schema, machine, today
from bench.scale_reads import API_READS, cli_commands
from crm_core.db import make_engine, make_session_factory, transaction
from crm_core.stats import recompute_all_stats
from migrations import upgrade
from tests.query_plans import Statement, captured, explain

SCHEMA = "crm_bench_scale"
READ_SAMPLES, READ_BUDGET = 100, 20.0
CLI_RUNS, CLI_BUDGET = 10, 20.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def build(engine: Engine, n: int) -> None:
    started = time.perf_counter()
    counts = dataset.load(engine, n)
    print(f"built {counts} in {time.perf_counter() - started:.0f} s", flush=True)


def database_ms(engine: Engine, statements: list[Statement]) -> float:
    """Time inside the database of the statements a read sent."""
    if engine.dialect.name == "postgresql":
        return sum(float(explain(engine, s, analyze=True)["Execution Time"]) for s in statements)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        for statement in statements:
            cursor.execute(statement.sql, statement.parameters)
            cursor.fetchall()
        return (time.perf_counter() - started) * 1000
    finally:
        raw.close()


def measure_reads(engine: Engine, n: int, label: str, only: str | None) -> None:
    sessions = make_session_factory(engine)
    rng = random.Random(11)
    for name, read in API_READS.items():
        if only and only not in name:
            continue
        inside: list[float] = []
        api: list[float] = []
        deadline = time.perf_counter() + READ_BUDGET
        while len(api) < READ_SAMPLES and (len(api) < 3 or time.perf_counter() < deadline):
            with sessions() as session, captured(engine) as statements:
                started = time.perf_counter()
                read(session, rng, n)
                api.append((time.perf_counter() - started) * 1000)
                session.rollback()
            inside.append(database_ms(engine, statements))
        record_read(engine.dialect.name, n, label, name, inside, api)


def record_read(
    database: str, n: int, label: str, name: str, inside: list[float], api: list[float]
) -> None:
    """A row of "Scale: reads": p50/p99 inside the database and through the API (ms)."""
    row = [
        today(), machine(), database, f"{n:,}", label, name, str(len(api)),
        f"{percentile(inside, 0.5):.2f}", f"{percentile(inside, 0.99):.2f}",
        f"{percentile(api, 0.5):.2f}", f"{percentile(api, 0.99):.2f}",
    ]  # fmt: skip
    print(" | ".join(row[4:]), flush=True)
    append_result(
        "Scale: reads (bench/scale.py)",
        ["date", "machine", "database", "customers", "code", "read", "samples",
         "db p50 ms", "db p99 ms", "api p50 ms", "api p99 ms"],
        row,
    )  # fmt: skip


def measure_commands(engine: Engine, url: str, schema: str | None, n: int, label: str) -> None:
    env = {**os.environ, "CRM_DATABASE_URL": url}
    env.pop("CRM_CONFIG", None)
    if schema:
        env["CRM_DATABASE_PG_SCHEMA"] = schema
    crm = str(Path(sys.executable).with_name("crm"))
    with tempfile.TemporaryDirectory() as cwd:
        for name, arguments in cli_commands(n).items():
            walls: list[float] = []
            deadline = time.perf_counter() + CLI_BUDGET
            lines = 0
            while len(walls) < CLI_RUNS and (len(walls) < 3 or time.perf_counter() < deadline):
                started = time.perf_counter()
                done = subprocess.run(
                    [crm, *arguments], env=env, cwd=cwd, capture_output=True, text=True
                )
                walls.append(time.perf_counter() - started)
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed: {done.stderr.strip()}")
                lines = len(done.stdout.splitlines())
                if walls[-1] > CLI_BUDGET:
                    break
            row = [
                today(), machine(), engine.dialect.name, f"{n:,}", label, name, str(len(walls)),
                f"{percentile(walls, 0.5):.3f}", f"{percentile(walls, 0.99):.3f}", str(lines),
            ]  # fmt: skip
            print(" | ".join(row[4:]), flush=True)
            append_result(
                "Scale: commands (bench/scale.py)",
                ["date", "machine", "database", "customers", "code", "command", "runs",
                 "wall p50 s", "wall p99 s", "output lines"],
                row,
            )  # fmt: skip


def measure_stats(engine: Engine, n: int, label: str) -> None:
    """recompute_all_stats from the dataset's stale (zero) figures, then again."""
    sessions = make_session_factory(engine)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE customers SET total_leads = 0, total_bookings = 0, total_revenue = 0")
        )
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE customers")
            )
    for case in ("stale figures", "figures already right"):
        started = time.perf_counter()
        with transaction(sessions) as session:
            backend = _backend_cpu(session)
            updated = recompute_all_stats(session)
            cpu = _backend_cpu(session) - backend
        seconds = time.perf_counter() - started
        row = [today(), machine(), engine.dialect.name, f"{n:,}", label, case, f"{updated:,}",
               f"{seconds:.2f}", f"{cpu:.2f}" if engine.dialect.name == "postgresql" else "-",
               f"{os.getloadavg()[0]:.1f}"]  # fmt: skip
        print(" | ".join(row[4:]), flush=True)
        append_result(
            "Scale: stats recomputation, wall and database CPU (bench/scale.py)",
            ["date", "machine", "database", "customers", "code", "case", "customers",
             "wall s", "database CPU s", "load average"],
            row,
        )  # fmt: skip


def _backend_cpu(session: Session) -> float:
    """CPU seconds the PostgreSQL backend of this session has used (it runs on this
    machine): unlike the wall time, it hardly moves with the load of other work."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "step", nargs="?", default="all", choices=["all", "build", "measure", "drop"]
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sqlite", action="store_true", help="the embedded default instead")
    parser.add_argument("--label", default="", help="what code is measured, e.g. 'before'")
    parser.add_argument("--only", help="only the reads whose name contains this")
    parser.add_argument("--skip", default="", help="comma list of: reads,commands,stats")
    parser.add_argument("--schema", default=SCHEMA, help="PostgreSQL schema of the dataset")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    n = args.customers
    if args.sqlite:
        directory = tempfile.mkdtemp(prefix="crm-bench-scale-")
        url, schema = f"sqlite:///{directory}/crm.db", None
        upgrade(url)
    else:
        url, schema = PG_URL, args.schema
        if args.step in ("all", "build"):
            fresh_schema(schema)
        elif args.step == "measure":
            upgrade(PG_URL, schema=schema)  # new indexes of the code under test
    engine = make_engine(url, schema=schema)
    try:
        if args.step in ("all", "build") or args.sqlite:
            build(engine, n)
        if args.step in ("all", "measure") or args.sqlite:
            label = (
                args.label
                or subprocess.run(
                    ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
                ).stdout.strip()
            )
            if "reads" not in skip:
                measure_reads(engine, n, label, args.only)
            if "commands" not in skip:
                measure_commands(engine, url, schema, n, label)
            if "stats" not in skip:
                measure_stats(engine, n, label)
    finally:
        engine.dispose()
        if schema and args.step in ("all", "drop"):
            drop_schema(schema)
        if not schema:
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent)


if __name__ == "__main__":
    main()
