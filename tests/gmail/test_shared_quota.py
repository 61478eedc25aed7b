"""One Gmail quota per mailbox across processes: a Redis token bucket with a Redis broker,
a bucket per process with the inline broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.gmail.conftest import MAILBOX, write_token_file
from tests.gmail_fake import FakeGmailServer
from tests.processes import REDIS_URL, clear_namespace, new_namespace
from worker.config import load_settings
from worker.gmail.quota import RedisTokenBucket, TokenBucket, bucket_for, quota_key

# The fake Gmail allows this many units/s per user; the processes are configured a
# little under it, as an operator would, so only their sum can break it.
GMAIL_LIMIT = 250
CONFIGURED = 200
CALLS = 120  # messages.list calls per process, 5 units each: 3 s alone at CONFIGURED


@pytest.fixture
def namespace() -> Iterator[str]:
    name = new_namespace()
    yield name
    clear_namespace(name)


def test_buckets_with_one_key_share_their_units(namespace: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    key = quota_key(namespace, MAILBOX)
    slept: list[float] = []
    first = RedisTokenBucket(client, key, 100, sleep=slept.append)
    second = RedisTokenBucket(client, key, 100, sleep=slept.append)
    first.spend(100)  # the whole bucket
    assert slept == []
    second.spend(50)  # the other "process" finds it empty and waits for half a second
    assert slept and slept[0] == pytest.approx(0.5, abs=0.05)
    assert client.exists(key) and client.pttl(key) > 0  # expires once full again
    client.close()


def test_drain_empties_the_shared_bucket(namespace: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    key = quota_key(namespace, MAILBOX)
    slept: list[float] = []
    RedisTokenBucket(client, key, 100).drain()
    RedisTokenBucket(client, key, 100, sleep=slept.append).spend(10)
    assert slept and slept[0] == pytest.approx(0.1, abs=0.05)
    client.close()


def test_the_broker_decides_where_the_bucket_lives(namespace: str) -> None:
    inline = load_settings(broker={"url": "inline"})
    shared = load_settings(broker={"url": REDIS_URL, "namespace": namespace})
    assert isinstance(bucket_for(MAILBOX, inline), TokenBucket)
    bucket = bucket_for("Info@Rendetalje.dk", shared)
    assert isinstance(bucket, RedisTokenBucket)
    assert bucket.key == f"{namespace}:gmail-quota:{MAILBOX}"
    assert bucket_for(MAILBOX, shared) is bucket  # one per mailbox in a process


def _config(path: Path, server: FakeGmailServer, tokens: Path, broker: str, namespace: str) -> Path:
    path.write_text(
        f'[database]\nurl = "sqlite:///{path.parent / "crm.db"}"\n\n'
        f'[broker]\nurl = "{broker}"\nnamespace = "{namespace}"\n\n'
        f'[gmail]\napi_endpoint = "{server.url}"\ntoken_dir = "{tokens}"\n'
        f"quota_units_per_second = {CONFIGURED}\n\n"
        f'[[mailboxes]]\naddress = "{MAILBOX}"\n',
        encoding="utf-8",
    )
    return path


def _spend_in_two_processes(config: Path) -> tuple[list[dict[str, float]], float]:
    start_at = time.time() + 5  # both have imported everything by then
    command = [sys.executable, "-m", "tests.gmail.quota_spender", str(config), MAILBOX]
    processes = [
        subprocess.Popen(
            [*command, str(CALLS), str(start_at)],
            stdout=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    reports = [json.loads(output) for output in outputs]
    # They must have spent at the same time, or the test proves nothing.
    assert max(r["started"] for r in reports) < min(r["finished"] for r in reports), reports
    return reports, max(r["finished"] for r in reports) - min(r["started"] for r in reports)


def test_two_processes_on_one_mailbox_stay_within_its_quota(
    gmail_server: FakeGmailServer, tmp_path: Path, namespace: str
) -> None:
    refresh = gmail_server.add_user(MAILBOX)
    tokens = tmp_path / "tokens"
    write_token_file(gmail_server, refresh, tokens / f"{MAILBOX}.json")
    gmail_server.set_quota(GMAIL_LIMIT, burst=GMAIL_LIMIT)
    config = _config(tmp_path / "crm.toml", gmail_server, tokens, REDIS_URL, namespace)

    reports, seconds = _spend_in_two_processes(config)

    stats = gmail_server.stats().users[MAILBOX]
    units = 2 * CALLS * 5
    assert stats.units_by_method["messages.list"] == units
    # Gmail (the fake, counting per user) never had to refuse a call ...
    assert stats.throttled == 0
    assert sum(report["rate_limited"] for report in reports) == 0
    # ... because together they kept to the configured budget: one bucket's worth at
    # once, then CONFIGURED units a second, over the time from the first call of either
    # to the last of both.
    assert seconds >= (units - CONFIGURED) / CONFIGURED * 0.95


def test_with_the_inline_broker_each_process_has_its_own_budget(
    gmail_server: FakeGmailServer, tmp_path: Path, namespace: str
) -> None:
    """No shared store: each process keeps to the budget alone, and two of them on one
    mailbox exceed it (Gmail answers 429 and the calls are retried)."""
    refresh = gmail_server.add_user(MAILBOX)
    tokens = tmp_path / "tokens"
    write_token_file(gmail_server, refresh, tokens / f"{MAILBOX}.json")
    gmail_server.set_quota(GMAIL_LIMIT, burst=GMAIL_LIMIT)
    config = _config(tmp_path / "crm.toml", gmail_server, tokens, "inline", namespace)

    reports, _ = _spend_in_two_processes(config)

    stats = gmail_server.stats().users[MAILBOX]
    assert stats.units_by_method["messages.list"] == 2 * CALLS * 5  # every call served
    assert stats.throttled > 0
    assert sum(report["rate_limited"] for report in reports) == stats.throttled
