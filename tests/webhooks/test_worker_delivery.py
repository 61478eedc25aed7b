"""Delivery by real `crm worker` processes through Redis, on PostgreSQL: a receiver that
is down for a while, and a worker killed in the middle of a delivery."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Database
from tests.ingest.test_sample_mailbox import SAMPLES
from tests.processes import (
    clear_namespace,
    crm_json,
    daemon,
    free_port,
    new_namespace,
    stop,
    wait_for,
    write_config,
)
from tests.webhooks.receiving import first_arrivals, received, receiver
from tests.webhooks.test_embedded_delivery import expected_ids

pytestmark = pytest.mark.slow
SAMPLE = SAMPLES / "rendetalje.mbox"

WEBHOOKS = (
    "[webhooks]\nallow_private_networks = true\nallow_http = true\n"
    "timeout_seconds = {timeout}\nsweep_interval_seconds = 1\n"
    "retry_delays_seconds = [1, 1, 1, 2, 2, 2, 3, 3, 3, 5, 5, 5]\n"
)


@pytest.fixture
def namespace() -> Iterator[str]:
    name = new_namespace()
    yield name
    clear_namespace(name)


def config_for(database: Database, namespace: str, path: Path, timeout: float) -> Path:
    return write_config(path, database, namespace, webhooks=WEBHOOKS.format(timeout=timeout))


def webhooks_status(config: Path) -> dict[str, Any]:
    return crm_json(config, "status")["webhooks"]  # type: ignore[no-any-return]


def all_delivered(config: Path) -> bool:
    status = webhooks_status(config)
    return status["deliveries_pending"] == 0 and status["events_not_fanned_out"] == 0


def test_a_receiver_down_for_a_while_gets_everything_in_order(
    pg_database: Database, namespace: str, tmp_path: Path
) -> None:
    config = config_for(pg_database, namespace, tmp_path / "crm.toml", timeout=5)
    port = free_port()
    log = tmp_path / "receiver.jsonl"
    endpoint = crm_json(config, "webhook", "add", f"http://127.0.0.1:{port}/hook", "--events", "*")
    with daemon(config, "worker", "-p", "1", "-t", "2", log=tmp_path / "worker.log"):
        imported = crm_json(config, "import", "mbox", str(SAMPLE), "--wait", "120")
        assert imported["pending"] == 0
        crm_json(config, "customer", "create", "Hanne Holm", "hanne@example.dk")
        wait_for(
            lambda: crm_json(config, "webhook", "deliveries", "--failed")["deliveries"],
            timeout=60,
            what="a failed attempt while the receiver is down",
        )
        assert received(log, "arrived") == []
        with receiver(port, endpoint["secret"], log):
            wait_for(lambda: all_delivered(config), timeout=120, what="every delivery")
    answered = received(log)
    assert answered and all(e["verified"] and e["status"] == 200 for e in answered)
    expected = expected_ids(pg_database, endpoint["id"])
    assert len(expected) > 52  # the sample mailbox (52 messages, their customers…) and more
    assert first_arrivals(log) == expected
    assert webhooks_status(config)["deliveries_failed"] == 0


def test_a_worker_killed_mid_delivery_delivers_after_restart(
    pg_database: Database, namespace: str, tmp_path: Path
) -> None:
    config = config_for(pg_database, namespace, tmp_path / "crm.toml", timeout=4)
    port = free_port()
    log = tmp_path / "receiver.jsonl"
    endpoint = crm_json(config, "webhook", "add", f"http://127.0.0.1:{port}/hook", "--events", "*")
    # The first answer is held, so the kill lands while the worker waits for it.
    with receiver(port, endpoint["secret"], log, "--delay", "3", "--delay-first", "1"):
        for n in range(3):
            crm_json(config, "customer", "create", f"Kunde {n}", f"kunde{n}@example.dk")
        with daemon(config, "worker", "-p", "1", "-t", "1", log=tmp_path / "victim.log") as victim:
            wait_for(lambda: received(log, "arrived"), timeout=60, what="the first request")
            stop(victim, signal.SIGKILL)
        first = received(log, "arrived")[0]["id"]
        pending = crm_json(config, "webhook", "deliveries")["deliveries"]
        assert all(d["status"] == "pending" and d["attempts"] == 0 for d in pending)
        with daemon(config, "worker", "-p", "1", "-t", "1", log=tmp_path / "again.log"):
            wait_for(lambda: all_delivered(config), timeout=120, what="every delivery")
    expected = expected_ids(pg_database, endpoint["id"])
    assert len(expected) == 3 and first == expected[0]
    assert first_arrivals(log) == expected
    arrivals = [e["id"] for e in received(log, "arrived")]
    assert arrivals.count(first) >= 2  # sent again, under the same webhook-id
    assert all(e["verified"] for e in received(log, "arrived"))
