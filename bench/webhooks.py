"""Webhook delivery rate, and what subscribed endpoints cost the ingestion pipeline.

    python -m bench.webhooks [--events 2000] [--messages 5000] [--repeat 3]

In one run, against local receiver processes (tests/webhooks/receiver.py, which verify
every signature), with Redis and `crm worker` on PostgreSQL:
1. delivery: ``--events`` customer.created events (one bulk insert of customers),
   delivered to one endpoint by one worker process; events per second from the
   fan-out job's send until the last delivery is recorded. One endpoint's deliveries
   are sequential (order), so this is the rate of one endpoint;
2. pipeline: bench/pipeline.py's timed `crm import mbox` of ``--messages`` generated
   messages, with two endpoints subscribed to every event and with none, interleaved
   ``--repeat`` times on fresh schemas; messages per second, medians, and their ratio.
   The deliveries go on in the same worker processes while ingestion runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from bench.common import (
    OUT,
    PG_URL,
    append_result,
    clear_namespace,
    drop_schema,
    fresh_schema,
    machine,
    median,
    today,
)
from bench.pipeline import mailbox_file, run_pipeline
from bench.pipeline import write_config as pipeline_config
from crm_core.customers.bulk import find_or_create_customers
from crm_core.db import make_engine, make_session_factory, transaction
from crm_core.webhooks import webhook_health
from tests.processes import free_port, stop, wait_for
from tests.webhooks.receiving import receiver

WEBHOOKS = (
    "[webhooks]\nallow_private_networks = true\nallow_http = true\nsweep_interval_seconds = 2\n"
)


def write_config(path: Path, schema: str, namespace: str, processes: int, threads: int) -> Path:
    return pipeline_config(path, schema, namespace, processes, threads, WEBHOOKS)


def crm(config: Path, *args: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    result = subprocess.run(
        [sys.executable, "-m", "worker.cli.main", "--config", str(config), *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def start_worker(config: Path, log: Path, processes: int, threads: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    with log.open("wb") as output:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "worker.cli.main", "--config", str(config)),
                *("worker", "-p", str(processes), "-t", str(threads)),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def delivery_rate(events: int) -> float:
    """Events per second to one endpoint, one worker process."""
    schema = fresh_schema(f"bench_webhooks_{uuid.uuid4().hex[:8]}")
    namespace = f"crm-bench-{uuid.uuid4().hex[:8]}"
    config = write_config(OUT / "webhooks.toml", schema, namespace, 1, 2)
    port = free_port()
    engine = make_engine(PG_URL, schema=schema)
    sessions = make_session_factory(engine)
    try:
        endpoint = crm(config, "webhook", "add", f"http://127.0.0.1:{port}/", "--events", "*")
        with receiver(port, str(endpoint["secret"]), OUT / "webhooks-receiver.jsonl"):
            worker = start_worker(config, OUT / "webhooks-worker.log", 1, 2)
            try:
                time.sleep(3)  # let the worker start before the clock does
                with transaction(sessions) as session:
                    find_or_create_customers(
                        session, {f"kunde{n}@example.dk": f"Kunde {n}" for n in range(events)}
                    )
                started = time.perf_counter()
                crm(config, "webhook", "test", str(endpoint["id"]))  # sends a fan-out too

                def done() -> bool:
                    with sessions() as session:
                        health = webhook_health(session)
                    return health.pending == 0 and health.not_fanned_out == 0

                wait_for(done, timeout=3600, interval=0.1, what="every delivery")
                elapsed = time.perf_counter() - started
            finally:
                stop(worker, timeout=60, main_only=True)
    finally:
        engine.dispose()
        drop_schema(schema)
        clear_namespace(namespace)
    return (events + 1) / elapsed


def pipeline_seconds(mbox: Path, endpoints: int, processes: int, threads: int) -> float:
    schema = fresh_schema(f"bench_webhooks_{uuid.uuid4().hex[:8]}")
    namespace = f"crm-bench-{uuid.uuid4().hex[:8]}"
    config = write_config(OUT / "webhooks-pipeline.toml", schema, namespace, processes, threads)
    try:
        with ExitStack() as receivers:
            for n in range(endpoints):
                port = free_port()
                url = f"http://127.0.0.1:{port}/"
                added = crm(config, "webhook", "add", url, "--events", "*")
                log = OUT / f"webhooks-pipeline-receiver-{n}.jsonl"
                log.unlink(missing_ok=True)
                receivers.enter_context(receiver(port, str(added["secret"]), log))
            seconds, summary = run_pipeline(mbox, config, OUT / "webhooks-pipeline-worker.log")
    finally:
        drop_schema(schema)
        clear_namespace(namespace)
    print(f"  {endpoints} endpoint(s): {summary['messages'] / seconds:,.0f} msg/s", flush=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are reported")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)

    print("delivery …", flush=True)
    rate = delivery_rate(args.events)
    print(f"  {rate:,.0f} events/s to one endpoint", flush=True)
    mbox = mailbox_file(args.messages)
    without: list[float] = []
    subscribed: list[float] = []
    for run in range(args.repeat):
        print(f"run {run + 1}: pipeline …", flush=True)
        without.append(pipeline_seconds(mbox, 0, args.processes, args.threads))
        subscribed.append(pipeline_seconds(mbox, 2, args.processes, args.threads))
    none_rate = args.messages / median(without)
    two_rate = args.messages / median(subscribed)
    print(
        f"delivery {rate:,.0f} events/s; pipeline {none_rate:,.0f} msg/s without endpoints, "
        f"{two_rate:,.0f} msg/s with two subscribed to everything ({two_rate / none_rate:.2f})"
    )
    append_result(
        "Webhooks (bench/webhooks.py)",
        [
            "date",
            "machine",
            "events delivered/s (one endpoint)",
            "messages",
            "workers",
            "pipeline msg/s, no endpoints",
            "pipeline msg/s, 2 endpoints on *",
            "ratio",
        ],
        [
            today(),
            machine(),
            f"{rate:,.0f}",
            str(args.messages),
            f"{args.processes}×{args.threads}"
            + (f" (median of {args.repeat})" if args.repeat > 1 else ""),
            f"{none_rate:,.0f}",
            f"{two_rate:,.0f}",
            f"{two_rate / none_rate:.2f}",
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
