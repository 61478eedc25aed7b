"""Concurrent `crm` processes against Gmail's per-mailbox quota (``gmail_sync --concurrent``).

Three runs against the local Gmail server, which limits each mailbox to ``quota`` units/s
and answers 429 beyond it, with every process configured for the same budget and a Redis
broker (jobs go to a queue no worker reads: this measures fetching and staging):

- two mailboxes: `crm sync --full` of each, in two processes at once. Each mailbox has its
  own quota, so each sync should take its own floor (its units ÷ quota).
- one mailbox, shared budget: `crm sync --full` and a second process spending the same
  mailbox's quota (one-id ``messages.list`` calls, standing in for `crm audit`, thread
  replays or a watcher). Together they can go no faster than their summed units ÷ quota.
- one mailbox, separate budgets: the same, with each process in its own broker namespace,
  hence its own bucket, as every process had before the bucket moved to Redis.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    PG_URL,
    REDIS_URL,
    append_result,
    clear_namespace,
    drop_schema,
    machine,
    today,
)

MAILBOXES = ("info@rendetalje.dk", "kontor@rendetalje.dk")
TITLE = "Gmail quota shared across processes (bench/gmail_sync.py --concurrent)"
HEADER = [
    "date",
    "machine",
    "run",
    "messages",
    "quota units/s",
    "units served",
    "seconds",
    "floor seconds",
    "over floor",
    "429s",
]


@dataclass
class Spent:
    units: int
    seconds: float
    rate_limited: int


def write_config(
    path: Path, schema: str, namespace: str, endpoint: str, tokens: Path, quota: float
) -> Path:
    mailboxes = "".join(f'[[mailboxes]]\naddress = "{m}"\n\n' for m in MAILBOXES)
    path.write_text(
        f'[database]\nurl = "{PG_URL}"\npg_schema = "{schema}"\n\n'
        f'[broker]\nurl = "{REDIS_URL}"\nnamespace = "{namespace}"\n\n'
        f'[gmail]\napi_endpoint = "{endpoint}"\ntoken_dir = "{tokens}"\n'
        f"quota_units_per_second = {quota}\n\n"
        '[logging]\nlevel = "WARNING"\n\n' + mailboxes,
        encoding="utf-8",
    )
    return path


def start_sync(config: Path, mailbox: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "worker.cli.main", "--config", str(config)]
    return subprocess.Popen(
        [*command, "sync", "--full", "--mailbox", mailbox, "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )


def start_spender(config: Path, mailbox: str, calls: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.gmail.quota_spender", str(config), mailbox]
    start_at = time.time() + 2  # about when the sync beside it has started too
    return subprocess.Popen(
        [*command, str(calls), str(start_at)], stdout=subprocess.PIPE, text=True
    )


def sync_result(process: subprocess.Popen[str]) -> Spent:
    output, _ = process.communicate(timeout=3600)
    if process.returncode != 0:
        raise SystemExit(f"crm sync failed: {output}")
    (report,) = json.loads(output)
    return Spent(int(report["total_units"]), float(report["seconds"]), int(report["rate_limited"]))


def spender_result(process: subprocess.Popen[str]) -> Spent:
    output, _ = process.communicate(timeout=3600)
    if process.returncode != 0:
        raise SystemExit(f"quota spender failed: {output}")
    report = json.loads(output)
    return Spent(int(report["units"]), float(report["seconds"]), int(report["rate_limited"]))


def record(
    run: str, messages: int, quota: float, spent: list[Spent], units: int, floor: float
) -> None:
    """One row. ``units`` are those Gmail served (and charged): calls it refused with a
    429 cost nothing there. The floor is the least time the quota allows for them; the
    seconds are the longer process's (they start within a second of each other)."""
    seconds = max(s.seconds for s in spent)
    rate_limited = sum(s.rate_limited for s in spent)
    print(
        f"{run}: {units} units in {seconds:.1f} s against a floor of {floor:.1f} s "
        f"({seconds / floor - 1:+.1%}), {rate_limited} rate-limit answers"
    )
    append_result(
        TITLE,
        HEADER,
        [
            today(),
            machine(),
            run,
            str(messages),
            f"{quota:.0f}",
            str(units),
            f"{seconds:.1f}",
            f"{floor:.1f}",
            f"{seconds / floor - 1:+.1%}",
            str(rate_limited),
        ],
    )


def run_concurrent(
    out: Path,
    served: Callable[[str], int],
    new_schema: Callable[[], str],
    endpoint: str,
    tokens: Path,
    messages: int,
    quota: float,
) -> None:
    """The three runs, each on a fresh schema (a full sync skips what the ledger has)."""
    namespaces = [f"crm-bench-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    schemas: list[str] = []

    def config(name: str, namespace: str) -> Path:
        return write_config(out / f"{name}.toml", schemas[-1], namespace, endpoint, tokens, quota)

    try:
        print("two mailboxes, a sync of each at once …", flush=True)
        schemas.append(new_schema())
        both = config("two-mailboxes", namespaces[0])
        before = [served(mailbox) for mailbox in MAILBOXES]
        syncs = [start_sync(both, mailbox) for mailbox in MAILBOXES]
        results = [sync_result(process) for process in syncs]
        units = [served(m) - b for m, b in zip(MAILBOXES, before, strict=True)]
        # Each mailbox has its own quota: the one that needed more units sets the floor.
        floor = max(units) / quota
        record("two mailboxes, a sync of each", 2 * messages, quota, results, sum(units), floor)

        calls = messages // 5  # a fifth of the sync's units
        for run, spender_namespace in (
            ("one mailbox, sync + second process, shared budget", namespaces[1]),
            ("one mailbox, sync + second process, separate budgets", namespaces[2]),
        ):
            print(f"{run} …", flush=True)
            schemas.append(new_schema())
            before_run = served(MAILBOXES[0])
            sync = start_sync(config("sync", namespaces[1]), MAILBOXES[0])
            spender = start_spender(config("spender", spender_namespace), MAILBOXES[0], calls)
            results = [sync_result(sync), spender_result(spender)]
            units_served = served(MAILBOXES[0]) - before_run
            record(run, messages, quota, results, units_served, units_served / quota)
    finally:
        for namespace in namespaces:
            clear_namespace(namespace)
        for schema in schemas:
            drop_schema(schema)
