"""Messages per second through the whole pipeline, beside the machine's bound.

    python -m bench.pipeline [--messages 20000] [--processes 2] [--threads 4]

In one run, on one generated Takeout mailbox:
1. pipeline: `crm import mbox` → Redis → `crm worker` processes → PostgreSQL, timed
   from the start of the import until every message has its outcome;
2. parse alone: read the export and parse every message, one process;
3. insert alone: the rows the pipeline created, inserted again into an empty schema
   in one transaction (executemany), one process.
The bound is parse + insert done back to back with nothing else: messages ÷ (parse
seconds + insert seconds). The three are measured in turn ``--repeat`` times (fresh
schema and queue each time) and the medians make the row in bench/RESULTS.md: on a
shared machine a single short measurement swings by a third.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.common import (
    OUT,
    PG_URL,
    REDIS_URL,
    append_result,
    clear_namespace,
    drop_schema,
    fresh_schema,
    machine,
    median,
    today,
)
from bench.mailbox_generator import generate_mailbox
from crm_core.db import make_engine
from crm_core.models import Base
from tests.processes import stop
from worker.importers.takeout import read_takeout
from worker.mail.parse import parse_message

ROOT = Path(__file__).resolve().parent.parent


def mailbox_file(n: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"takeout-{n}.mbox"
    if not path.exists():
        print(f"generating {n} messages → {path}", flush=True)
        generate_mailbox(path, n, seed=1)
    return path


def write_config(
    path: Path, schema: str, namespace: str, processes: int, threads: int, extra: str = ""
) -> Path:
    """The benchmark's config: its schema, its Redis namespace, its workers; ``extra``
    TOML sections are appended."""
    path.write_text(
        f'[database]\nurl = "{PG_URL}"\npg_schema = "{schema}"\n\n'
        f'[broker]\nurl = "{REDIS_URL}"\nnamespace = "{namespace}"\n\n'
        f"[worker]\nprocesses = {processes}\nthreads = {threads}\n\n{extra}",
        encoding="utf-8",
    )
    return path


def run_pipeline(mbox: Path, config: Path, log: Path) -> tuple[float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    crm = [sys.executable, "-m", "worker.cli.main", "--config", str(config)]
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [*crm, "worker"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        time.sleep(3)  # let the worker processes start before the clock does
        started = time.perf_counter()
        result = subprocess.run(
            [*crm, "import", "mbox", str(mbox), "--json", "--wait", "3600"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        elapsed = time.perf_counter() - started
    finally:
        # SIGTERM to the main process only, as systemd's KillMode=mixed does.
        stop(worker, timeout=120, main_only=True)
    return elapsed, json.loads(result.stdout)


def parse_alone(mbox: Path) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for staged in read_takeout(mbox, "info@rendetalje.dk"):
        parse_message(staged.raw)
        count += 1
    return time.perf_counter() - started, count


def insert_alone(source_schema: str) -> tuple[float, int]:
    """Insert the pipeline's rows again, into an empty schema, in one transaction."""
    source = make_engine(PG_URL, schema=source_schema)
    tables = Base.metadata.sorted_tables
    with source.connect() as connection:
        rows = {t.name: [dict(r._mapping) for r in connection.execute(select(t))] for t in tables}
    source.dispose()
    target_schema = fresh_schema(f"bench_insert_{uuid.uuid4().hex[:8]}")
    target = make_engine(PG_URL, schema=target_schema)
    total = sum(len(r) for r in rows.values())
    started = time.perf_counter()
    with target.begin() as connection:
        for table in tables:
            if rows[table.name]:
                connection.execute(insert(table), rows[table.name])
    elapsed = time.perf_counter() - started
    target.dispose()
    drop_schema(target_schema)
    return elapsed, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are reported")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark schema")
    args = parser.parse_args()

    mbox = mailbox_file(args.messages)
    pipeline_runs: list[float] = []
    parse_runs: list[float] = []
    insert_runs: list[float] = []
    summary: dict[str, Any] = {}
    parsed = rows = 0
    for run in range(args.repeat):
        schema = fresh_schema(f"bench_pipeline_{uuid.uuid4().hex[:8]}")
        namespace = f"crm-bench-{uuid.uuid4().hex[:8]}"
        config = OUT / "pipeline.toml"
        write_config(config, schema, namespace, args.processes, args.threads)
        try:
            print(f"run {run + 1}: pipeline …", flush=True)
            seconds, summary = run_pipeline(mbox, config, OUT / "pipeline-worker.log")
            pipeline_runs.append(seconds)
            print(f"run {run + 1}: parse alone …", flush=True)
            seconds, parsed = parse_alone(mbox)
            parse_runs.append(seconds)
            print(f"run {run + 1}: insert alone …", flush=True)
            seconds, rows = insert_alone(schema)
            insert_runs.append(seconds)
        finally:
            if not args.keep:
                drop_schema(schema)
            clear_namespace(namespace)
    pipeline_s, parse_s, insert_s = median(pipeline_runs), median(parse_runs), median(insert_runs)

    n = summary["messages"]
    pipeline_rate = n / pipeline_s
    bound_rate = n / (parse_s + insert_s)
    ratio = pipeline_rate / bound_rate
    print(json.dumps(summary, indent=2))
    print(
        f"pipeline {pipeline_rate:,.0f} msg/s ({pipeline_s:.1f} s); parse alone "
        f"{parsed / parse_s:,.0f} msg/s; insert alone {rows / insert_s:,.0f} rows/s "
        f"({insert_s:.1f} s for {rows} rows); bound {bound_rate:,.0f} msg/s; ratio {ratio:.2f}"
    )
    append_result(
        "Ingestion pipeline (bench/pipeline.py)",
        [
            "date",
            "machine",
            "messages",
            "workers",
            "pipeline msg/s",
            "parse alone msg/s",
            "insert alone rows/s",
            "bound msg/s",
            "ratio",
        ],
        [
            today(),
            machine(),
            str(n),
            f"{args.processes}×{args.threads}"
            + (f" (median of {args.repeat})" if args.repeat > 1 else ""),
            f"{pipeline_rate:,.0f}",
            f"{parsed / parse_s:,.0f}",
            f"{rows / insert_s:,.0f}",
            f"{bound_rate:,.0f}",
            f"{ratio:.2f}",
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
