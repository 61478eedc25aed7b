"""A full sync of a big mailbox under Google's per-user quota, against its floor.

    python -m bench.gmail_sync [--messages 10000] [--quota 250]
    python -m bench.gmail_sync --concurrent [--messages 2000] [--quota 250]

The local Gmail server (tests/gmail_fake) holds the generated mailbox and enforces
``--quota`` units per second per user, like Gmail; the sync runs with the same budget
(gmail.quota_units_per_second). The floor is the least time the quota allows for the
units the sync needed: units ÷ quota. A partial sync of 1,000 new messages follows.
Jobs go to a Redis queue that no worker reads: this measures fetching and staging.
``--concurrent`` runs several processes at once instead (bench/shared_quota.py): two
mailboxes synced side by side, and two processes on one mailbox with the quota shared
through Redis and, for comparison, with a budget each. Results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from itertools import islice
from pathlib import Path

from bench.common import (
    OUT,
    PG_URL,
    REDIS_URL,
    append_result,
    clear_namespace,
    drop_schema,
    fresh_schema,
    machine,
    today,
    write_token_file,
)
from bench.mailbox_generator import generate_mailbox
from bench.shared_quota import MAILBOXES, run_concurrent
from tests.gmail_fake import FakeGmailServer
from worker.config import load_settings
from worker.gmail.report import SyncReport
from worker.gmail.sync import sync_mailbox
from worker.importers.takeout import read_takeout
from worker.jobs.broker import install_broker
from worker.runtime import use_settings

MAILBOX = "info@rendetalje.dk"


def deliver(
    server: FakeGmailServer, mbox: Path, count: int, skip: int = 0, mailbox: str = MAILBOX
) -> int:
    delivered = 0
    for message in islice(read_takeout(mbox, MAILBOX), skip, skip + count):
        labels = [label for label in message.label_ids if label.isupper()] or ["INBOX"]
        server.deliver(mailbox, message.raw, labels)
        delivered += 1
    return delivered


def describe(report: SyncReport, messages: int, quota: float) -> dict[str, float]:
    units = sum(report.units.values())
    floor = units / quota
    return {
        "messages": messages,
        "units": units,
        "units_per_message": units / messages,
        "seconds": report.seconds,
        "floor_seconds": floor,
        "over_floor": report.seconds / floor - 1,
        "rate_limited": report.rate_limited,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--quota", type=float, default=250.0)
    parser.add_argument("--concurrent", action="store_true", help="the multi-process runs")
    args = parser.parse_args()
    if args.concurrent:
        return concurrent(args.messages or 2_000, args.quota)
    args.messages = args.messages or 10_000

    OUT.mkdir(exist_ok=True)
    mbox = OUT / f"takeout-{args.messages + args.new}.mbox"
    if not mbox.exists():
        generate_mailbox(mbox, args.messages + args.new, seed=2)
    schema = fresh_schema(f"bench_sync_{uuid.uuid4().hex[:8]}")
    namespace = f"crm-bench-{uuid.uuid4().hex[:8]}"
    tokens = OUT / "tokens"
    with FakeGmailServer(client_id=None, client_secret=None) as server:
        write_token_file(tokens, MAILBOX, server.token_uri, server.add_user(MAILBOX))
        print(f"delivering {args.messages} messages …", flush=True)
        deliver(server, mbox, args.messages)
        server.set_quota(args.quota, burst=args.quota)
        settings = load_settings(
            database={"url": PG_URL, "pg_schema": schema},
            broker={"url": REDIS_URL, "namespace": namespace},
            gmail={
                "api_endpoint": server.url,
                "token_dir": str(tokens),
                "quota_units_per_second": args.quota,
            },
            mailboxes=[{"address": MAILBOX}],
        )
        runtime = use_settings(settings)
        install_broker(settings)
        try:
            print("full sync …", flush=True)
            full = sync_mailbox(runtime, MAILBOX, full=True)
            assert full.ok, full.error
            full_figures = describe(full, args.messages, args.quota)
            deliver(server, mbox, args.new, skip=args.messages)
            print("partial sync …", flush=True)
            partial = sync_mailbox(runtime, MAILBOX)
            assert partial.ok, partial.error
            partial_figures = describe(partial, args.new, args.quota)
        finally:
            drop_schema(schema)
            clear_namespace(namespace)
    for name, figures in (("full", full_figures), ("partial", partial_figures)):
        print(
            f"{name}: {figures['messages']:.0f} messages, {figures['units']:.0f} units "
            f"({figures['units_per_message']:.3f}/message), {figures['seconds']:.1f} s against "
            f"a floor of {figures['floor_seconds']:.1f} s ({figures['over_floor']:+.1%}), "
            f"{figures['rate_limited']:.0f} rate-limit answers"
        )
        append_result(
            "Gmail sync under quota (bench/gmail_sync.py)",
            [
                "date",
                "machine",
                "sync",
                "messages",
                "quota units/s",
                "units/message",
                "seconds",
                "floor seconds",
                "over floor",
                "429s",
            ],
            [
                today(),
                machine(),
                name,
                f"{figures['messages']:.0f}",
                f"{args.quota:.0f}",
                f"{figures['units_per_message']:.3f}",
                f"{figures['seconds']:.1f}",
                f"{figures['floor_seconds']:.1f}",
                f"{figures['over_floor']:+.1%}",
                f"{figures['rate_limited']:.0f}",
            ],
        )
    return 0


def concurrent(messages: int, quota: float) -> int:
    OUT.mkdir(exist_ok=True)
    mbox = OUT / f"takeout-{2 * messages}.mbox"
    if not mbox.exists():
        generate_mailbox(mbox, 2 * messages, seed=2)
    tokens = OUT / "tokens"
    counter = iter(range(100))
    with FakeGmailServer(client_id=None, client_secret=None) as server:
        for n, mailbox in enumerate(MAILBOXES):
            write_token_file(tokens, mailbox, server.token_uri, server.add_user(mailbox))
            print(f"delivering {messages} messages to {mailbox} …", flush=True)
            deliver(server, mbox, messages, skip=n * messages, mailbox=mailbox)
        server.set_quota(quota, burst=quota)
        run_concurrent(
            OUT,
            lambda mailbox: server.stats().units(mailbox),
            lambda: fresh_schema(f"bench_quota_{next(counter)}_{uuid.uuid4().hex[:8]}"),
            server.url,
            tokens,
            messages,
            quota,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
