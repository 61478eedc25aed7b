"""Recovery in seconds: what a killed worker or a broker outage leaves pending is sent
again by the next worker to start and by the watcher once the broker answers, without
waiting minutes for the broker to give unacknowledged jobs back or for a person to run
`crm ingest resume`."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.mailbox_generator import generate_mailbox
from crm_core.models import EmailMessage, ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX, write_token_file
from tests.gmail_fake import FakeGmailServer
from tests.gmail_fake import fixtures as gmail_fixtures
from tests.processes import (
    clear_namespace,
    crm_json,
    daemon,
    free_port,
    http_get,
    new_namespace,
    private_redis,
    stop,
    wait_for,
    write_config,
)

gmail_server = gmail_fixtures.gmail_server  # the shared fixture

pytestmark = pytest.mark.slow

# Dramatiq gives a dead worker's unacknowledged jobs back only after its heartbeat
# times out: set far beyond the test, so only our own resume can bring them back.
NEVER_REQUEUED = "heartbeat_timeout_ms = 600000"


def pending(database: Database) -> int:
    with database.sessions() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(ReceivedMessage)
                .where(ReceivedMessage.outcome == IngestOutcome.PENDING)
            ).scalar_one()
        )


def stored_messages(database: Database) -> int:
    with database.sessions() as session:
        return int(session.execute(select(func.count()).select_from(EmailMessage)).scalar_one())


@pytest.fixture
def namespace() -> Iterator[str]:
    name = new_namespace()
    yield name
    clear_namespace(name)


def test_a_starting_worker_resends_what_a_killed_one_left_pending(
    pg_database: Database, namespace: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "crm.toml", pg_database, namespace)
    config.write_text(config.read_text().replace("heartbeat_timeout_ms = 3000", NEVER_REQUEUED))
    mbox = tmp_path / "generated.mbox"
    generate_mailbox(mbox, 400, seed=5)
    assert crm_json(config, "import", "mbox", str(mbox), "--wait", "0")["pending"] == 400

    with daemon(config, "worker", "-p", "1", "-t", "1", log=tmp_path / "victim.log") as victim:
        wait_for(lambda: pending(pg_database) <= 360, timeout=120, what="progress")
        stop(victim, signal.SIGKILL)
    left = pending(pg_database)
    assert 0 < left < 400, "the kill must land mid-way to prove anything"

    # No `crm ingest resume`, and the broker will not requeue within the test.
    with daemon(config, "worker", "-p", "2", "-t", "2", log=tmp_path / "again.log"):
        wait_for(lambda: pending(pg_database) == 0, timeout=120, what="the restarted worker")
    assert "resumed pending messages" in (tmp_path / "again.log").read_text()


def test_the_watcher_resends_at_once_when_the_broker_answers_again(
    pg_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    redis_port, push_port = free_port(), free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    refresh = gmail_server.add_user(MAILBOX)
    tokens = tmp_path / "tokens"
    write_token_file(gmail_server, refresh, tokens / f"{MAILBOX}.json")
    config = tmp_path / "crm.toml"
    config.write_text(
        f'[database]\nurl = "{pg_database.url}"\npg_schema = "{pg_database.schema}"\n\n'
        f'[broker]\nurl = "{broker}"\nnamespace = "crm-recovery"\n{NEVER_REQUEUED}\n\n'
        # The workers started here must not resume: the watcher is what is tested.
        "[worker]\nmax_retries = 2\nmin_backoff_ms = 100\nmax_backoff_ms = 500\n"
        "resume_on_start = false\n\n"
        "[metrics]\nworker_port = 0\nworker_health_port = 0\n\n"
        f'[gmail]\napi_endpoint = "{gmail_server.url}"\ntoken_dir = "{tokens}"\n'
        "poll_interval_seconds = 1\nbackstop_interval_seconds = 3600\n\n"
        f'[push]\nhost = "127.0.0.1"\nport = {push_port}\n\n'
        f'[[mailboxes]]\naddress = "{MAILBOX}"\nmode = "poll"\n',
        encoding="utf-8",
    )
    mbox = tmp_path / "generated.mbox"
    generate_mailbox(mbox, 60, seed=7)
    with private_redis(redis_port) as first, daemon(config, "watch", log=tmp_path / "watch.log"):
        healthz = f"http://127.0.0.1:{push_port}/healthz"
        wait_for(lambda: http_get(healthz)[0] == 200, timeout=60, what="the watcher")
        # The import stages its messages and queues their jobs; no worker runs yet.
        assert crm_json(config, "import", "mbox", str(mbox), "--wait", "0")["pending"] == 60
        # The broker goes away, and its queue with it (it keeps nothing on disk).
        first.terminate()
        first.wait(10)
        time.sleep(3)  # the watcher's poll fails meanwhile
        assert pending(pg_database) == 60
        with (
            private_redis(redis_port),  # and comes back
            daemon(config, "worker", "-p", "1", "-t", "4", log=tmp_path / "w.log"),
        ):
            wait_for(
                lambda: pending(pg_database) == 0,
                timeout=120,
                what="the watcher to resend what the outage left pending",
            )
    assert stored_messages(pg_database) > 0
    assert "broker back: pending messages resent" in (tmp_path / "watch.log").read_text()
