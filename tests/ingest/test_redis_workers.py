"""The whole pipeline with real parts: Redis, `crm worker` processes, PostgreSQL."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from threading import Thread

import pytest
from sqlalchemy import func, select

from bench.mailbox_generator import generate_mailbox
from crm_core.models import Conversation, Customer, EmailMessage, Lead, ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from tests.ingest.test_sample_mailbox import EXPECTED, SAMPLES
from tests.processes import (
    clear_namespace,
    crm_json,
    daemon,
    free_port,
    http_get,
    new_namespace,
    stop,
    wait_for,
    write_config,
)
from worker.config import load_settings
from worker.importers.run import import_takeout
from worker.jobs.broker import install_broker
from worker.runtime import use_settings

pytestmark = pytest.mark.slow
SAMPLE = SAMPLES / "rendetalje.mbox"
STORED = EXPECTED["summary"]["totals"]["inbound"] + EXPECTED["summary"]["totals"]["outbound"]
MESSAGES = EXPECTED["summary"]["totals"]["messages"]


@pytest.fixture
def config(pg_database: Database, tmp_path: Path) -> Iterator[Path]:
    namespace = new_namespace()
    yield write_config(tmp_path / "crm.toml", pg_database, namespace)
    clear_namespace(namespace)


def counts(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        return {
            model.__tablename__: session.execute(
                select(func.count()).select_from(model)
            ).scalar_one()
            for model in (Customer, Lead, Conversation, EmailMessage, ReceivedMessage)
        }


def outcomes(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        rows = session.execute(
            select(ReceivedMessage.outcome, func.count()).group_by(ReceivedMessage.outcome)
        )
        return {outcome.value: n for outcome, n in rows}


def assert_sample_result(database: Database) -> None:
    found = counts(database)
    assert found["customers"] == len(EXPECTED["summary"]["customers"])
    assert found["leads"] == EXPECTED["summary"]["totals"]["leads"]
    assert found["received_messages"] == EXPECTED["summary"]["totals"]["messages"]
    # The malformed sample message may be stored; every other stored message is expected.
    assert STORED <= found["email_messages"] <= STORED + 1
    assert outcomes(database).get("pending", 0) == 0


def test_import_through_redis_workers_twice(
    pg_database: Database, config: Path, tmp_path: Path
) -> None:
    with daemon(config, "worker", "-p", "2", "-t", "2", log=tmp_path / "worker.log"):
        first = crm_json(config, "import", "mbox", str(SAMPLE), "--wait", "120")
        assert first["pending"] == 0 and first["messages"] == MESSAGES
        assert_sample_result(pg_database)
        before = counts(pg_database)

        second = crm_json(config, "import", "mbox", str(SAMPLE), "--wait", "120")
        assert second["newly_staged"] == 0
        assert (second["customers_created"], second["leads_created"]) == (0, 0)
        assert counts(pg_database) == before


def test_two_workers_racing_on_the_same_messages(
    pg_database: Database, config: Path, tmp_path: Path
) -> None:
    results: list[dict[str, int]] = []

    def run_import() -> None:
        results.append(crm_json(config, "import", "mbox", str(SAMPLE), "--wait", "120"))

    with (
        daemon(config, "worker", "-p", "1", "-t", "4", log=tmp_path / "a.log"),
        daemon(config, "worker", "-p", "1", "-t", "4", log=tmp_path / "b.log"),
    ):
        # Two imports at once: most messages are sent to the queue twice.
        threads = [Thread(target=run_import) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == 2
    assert sum(r["newly_staged"] for r in results) == MESSAGES
    assert_sample_result(pg_database)


def test_worker_killed_mid_batch_loses_and_doubles_nothing(
    pg_database: Database, config: Path, tmp_path: Path
) -> None:
    # 600 messages: a dozen batch jobs, so the kill lands with work done and left.
    mbox = tmp_path / "generated.mbox"
    expected = generate_mailbox(mbox, 600, seed=3)
    staged = crm_json(config, "import", "mbox", str(mbox), "--wait", "0")
    assert staged["pending"] == 600  # staged and queued while no worker runs

    with daemon(config, "worker", "-p", "1", "-t", "1", log=tmp_path / "victim.log") as victim:
        wait_for(
            lambda: outcomes(pg_database).get("pending", 600) <= 550,
            timeout=120,
            what="the first worker to make progress",
        )
        stop(victim, signal.SIGKILL)
    left = outcomes(pg_database).get("pending", 0)
    assert 0 < left < 600, "the kill must land mid-way to prove anything"

    with daemon(config, "worker", "-p", "1", "-t", "2", log=tmp_path / "again.log"):
        wait_for(
            lambda: outcomes(pg_database).get("pending", 0) == 0,
            timeout=180,
            what="the restarted worker to finish (unacked jobs are requeued)",
        )
    found = counts(pg_database)
    stored = expected["by_kind"]["inbound"] + expected["by_kind"]["outbound"]
    assert found["received_messages"] == 600
    assert found["leads"] == expected["leads"]
    assert found["customers"] == expected["customers"]
    assert stored <= found["email_messages"] <= stored + expected["malformed"]
    assert outcomes(pg_database).get(IngestOutcome.QUARANTINED.value, 0) == 0
    with pg_database.sessions() as session:
        # Every stored outcome points at its own message: nothing doubled.
        linked = session.execute(
            select(func.count(func.distinct(ReceivedMessage.email_message_id))).where(
                ReceivedMessage.outcome == IngestOutcome.STORED
            )
        ).scalar_one()
    assert linked == found["email_messages"]


def test_worker_serves_health_and_metrics(
    pg_database: Database, config: Path, tmp_path: Path
) -> None:
    metrics_port, health_port = free_port(), free_port()
    text = config.read_text().replace(
        "worker_port = 0\nworker_health_port = 0",
        f"worker_port = {metrics_port}\nworker_health_port = {health_port}",
    )
    config.write_text(text)
    with daemon(config, "worker", "-p", "1", "-t", "2", log=tmp_path / "worker.log"):
        wait_for(
            lambda: http_get(f"http://127.0.0.1:{health_port}/healthz")[0] == 200,
            timeout=30,
            what="the worker's health endpoint",
        )
        status, body = http_get(f"http://127.0.0.1:{health_port}/readyz")
        assert status == 200
        assert json.loads(body)["checks"] == {"database": "ok", "broker": "ok"}
        crm_json(config, "import", "mbox", str(SAMPLE), "--wait", "120")
        status, body = http_get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert status == 200
        assert 'dramatiq_messages_total{actor_name="ingest_batch",queue_name="ingest"}' in (
            body.decode()
        )


def test_an_import_follows_the_workers_until_every_message_has_its_outcome(
    pg_database: Database, config: Path, tmp_path: Path
) -> None:
    settings = load_settings(config)
    runtime = use_settings(settings)
    install_broker(settings)
    staged: list[int] = []
    ingested: list[int] = []
    try:
        with daemon(config, "worker", "-p", "1", "-t", "2", log=tmp_path / "worker.log"):
            summary = import_takeout(
                runtime,
                SAMPLE,
                "info@rendetalje.dk",
                on_progress=staged.append,
                on_ingested=ingested.append,
                wait_seconds=120,
            )
    finally:
        install_broker(load_settings(database={"url": pg_database.url}, broker={"url": "inline"}))
    assert summary.pending == 0
    assert sum(staged) == sum(ingested) == MESSAGES
    assert all(n > 0 for n in ingested)
    assert_sample_result(pg_database)
