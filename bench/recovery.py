"""Time to drained after a worker is SIGKILLed mid-way, with and without the resume on start.

    python -m bench.recovery [--messages 2000] [--repeat 3]

Each run: a generated mailbox is imported with no worker running (every job queued in
Redis), a `crm worker -p 1 -t 2` files about a third of it and is SIGKILLed, then a new
`crm worker` starts and the clock runs until no message is pending. With
``worker.resume_on_start`` (the default) the new worker sends the pending messages'
jobs again at once; without it, the killed worker's unacknowledged jobs come back only
when Dramatiq's maintenance finds its heartbeat timed out (the defaults: 60 s, and a
maintenance run on about one fetch in a thousand). The two kinds of run alternate; the
medians make the rows in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

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
from crm_core.db import make_engine, make_session_factory
from crm_core.models import ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.processes import stop

CRM = [sys.executable, "-m", "worker.cli.main"]


def write_config(path: Path, schema: str, namespace: str, resume: bool) -> None:
    path.write_text(
        f'[database]\nurl = "{PG_URL}"\npg_schema = "{schema}"\n\n'
        f'[broker]\nurl = "{REDIS_URL}"\nnamespace = "{namespace}"\n\n'
        f"[worker]\nresume_on_start = {'true' if resume else 'false'}\n\n"
        "[metrics]\nworker_port = 0\nworker_health_port = 0\n\n"
        '[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )


def start_worker(config: Path, log: Path, threads: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    with log.open("ab") as output:
        return subprocess.Popen(
            [*CRM, "--config", str(config), "worker", "-p", "1", "-t", str(threads)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def one_run(mbox: Path, messages: int, resume: bool, limit: float) -> tuple[float, int]:
    """Seconds from the restart until nothing is pending (``limit`` if never), and how
    many messages the kill left pending."""
    schema = fresh_schema(f"bench_recovery_{uuid.uuid4().hex[:8]}")
    namespace = f"crm-bench-{uuid.uuid4().hex[:8]}"
    config = OUT / "recovery.toml"
    write_config(config, schema, namespace, resume)
    engine = make_engine(PG_URL, schema=schema)
    sessions = make_session_factory(engine)

    def pending() -> int:
        with sessions() as session:
            return int(
                session.execute(
                    select(func.count())
                    .select_from(ReceivedMessage)
                    .where(ReceivedMessage.outcome == IngestOutcome.PENDING)
                ).scalar_one()
            )

    try:
        subprocess.run(
            [*CRM, "--config", str(config), "import", "mbox", str(mbox), "--wait", "0"],
            check=True,
            capture_output=True,
        )
        victim = start_worker(config, OUT / "recovery-victim.log", threads=2)
        while pending() > messages * 2 // 3:
            time.sleep(0.1)
        stop(victim, signal.SIGKILL)
        left = pending()
        started = time.perf_counter()
        worker = start_worker(config, OUT / "recovery-again.log", threads=2)
        try:
            while pending() and time.perf_counter() - started < limit:
                time.sleep(0.2)
            return min(time.perf_counter() - started, limit), left
        finally:
            stop(worker, timeout=60, main_only=True)
    finally:
        engine.dispose()
        clear_namespace(namespace)
        drop_schema(schema)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind")
    parser.add_argument("--limit", type=float, default=600, help="seconds before giving up")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    mbox = OUT / f"recovery-{args.messages}.mbox"
    if not mbox.exists():
        generate_mailbox(mbox, args.messages, seed=11)
    seconds: dict[bool, list[float]] = {True: [], False: []}
    left: dict[bool, list[int]] = {True: [], False: []}
    for run in range(args.repeat):
        for resume in (True, False):
            elapsed, pending = one_run(mbox, args.messages, resume, args.limit)
            seconds[resume].append(elapsed)
            left[resume].append(pending)
            print(
                f"run {run + 1}, resume_on_start={resume}: {pending} pending after the kill, "
                f"drained {elapsed:.1f} s after the restart",
                flush=True,
            )
    for resume in (True, False):
        gave_up = sum(1 for s in seconds[resume] if s >= args.limit)
        append_result(
            "Recovery after a SIGKILLed worker (bench/recovery.py)",
            ["date", "machine", "messages", "resume_on_start", "runs",
             "pending after kill (median)", "seconds to drained (median)", "runs over the limit"],
            [today(), machine(), str(args.messages), str(resume).lower(), str(args.repeat),
             f"{median([float(n) for n in left[resume]]):.0f}",
             f"{median(seconds[resume]):.1f}", f"{gave_up} (limit {args.limit:.0f} s)"],
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
