"""The daemons as systemd runs them: `crm watch` and `crm worker` processes against
PostgreSQL, Redis and the local Gmail server.

Mail delivered to Gmail reaches the database; the metrics equal the database; a
SIGTERM in the middle of a burst ends cleanly and a restart loses and doubles
nothing; and the logs of the whole run hold no body, token or secret.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_core.models import Customer, EmailMessage, ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.conftest import PG_URL, Database
from tests.gmail.conftest import MAILBOX, customer_mail, write_token_file
from tests.gmail_fake import FakeGmailServer
from tests.gmail_fake import fixtures as gmail_fixtures
from tests.processes import (
    REDIS_URL,
    clear_namespace,
    daemon,
    free_port,
    http_get,
    new_namespace,
    stop,
    wait_for,
)

gmail_server = gmail_fixtures.gmail_server  # the shared fixture

pytestmark = pytest.mark.slow
PUSH_SECRET = "push-secret-never-logged"
DB_PASSWORD = "db-password-never-logged"
BURST = 1000


def body_marker(n: int) -> str:
    return f"BODYMARKER{n:05d} kan I gøre rent hos os"


def counts(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        outcomes = dict(
            session.execute(
                select(ReceivedMessage.outcome, func.count()).group_by(ReceivedMessage.outcome)
            ).all()
        )
        return {
            "messages": session.execute(
                select(func.count()).select_from(EmailMessage)
            ).scalar_one(),
            "customers": session.execute(select(func.count()).select_from(Customer)).scalar_one(),
            "received": sum(outcomes.values()),
            "pending": outcomes.get(IngestOutcome.PENDING, 0),
            "stored": outcomes.get(IngestOutcome.STORED, 0),
        }


def test_daemons_under_a_burst_with_sigterm(
    pg_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    namespace = new_namespace()
    refresh_token = gmail_server.add_user(MAILBOX)
    tokens = tmp_path / "tokens"
    write_token_file(gmail_server, refresh_token, tokens / f"{MAILBOX}.json")
    port, health_port = free_port(), free_port()
    url_with_password = PG_URL.replace("postgres@", f"postgres:{DB_PASSWORD}@")
    config = tmp_path / "crm.toml"
    config.write_text(
        f'[database]\nurl = "{url_with_password}"\npg_schema = "{pg_database.schema}"\n\n'
        f'[broker]\nurl = "{REDIS_URL}"\nnamespace = "{namespace}"\n'
        "heartbeat_timeout_ms = 3000\nmaintenance_chance = 200000\n\n"
        "[worker]\nprocesses = 2\nthreads = 2\nmax_retries = 3\nmin_backoff_ms = 100\n"
        "max_backoff_ms = 1000\n\n"
        f"[metrics]\nworker_port = 0\nworker_health_port = {health_port}\n\n"
        '[logging]\nformat = "json"\nlevel = "DEBUG"\n\n'
        f'[gmail]\napi_endpoint = "{gmail_server.url}"\ntoken_dir = "{tokens}"\n'
        "poll_interval_seconds = 1\nquota_units_per_second = 1000\n\n"
        f'[push]\nport = {port}\nshared_token = "{PUSH_SECRET}"\n\n'
        f'[[mailboxes]]\naddress = "{MAILBOX}"\n',
        encoding="utf-8",
    )
    logs = [tmp_path / "watch.log", tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    try:
        with daemon(config, "watch", log=logs[0]):
            with daemon(config, "worker", log=logs[1]) as worker:
                gmail_server.deliver(MAILBOX, customer_mail(0, body=body_marker(0)))
                wait_for(lambda: counts(pg_database)["stored"] == 1, 60, what="first mail")

                for n in range(1, BURST + 1):
                    gmail_server.deliver(MAILBOX, customer_mail(n, body=body_marker(n)))
                wait_for(lambda: counts(pg_database)["stored"] > 20, 60, what="the burst to start")
                # SIGTERM mid-burst, as systemd (KillMode=mixed) sends it: jobs in flight
                # finish, prefetched ones go back to the queue.
                assert stop(worker, signal.SIGTERM, timeout=60, main_only=True) == 0
            in_between = counts(pg_database)
            assert in_between["stored"] < BURST + 1, "the burst ended before the SIGTERM"

            with daemon(config, "worker", log=logs[2]):
                wait_for(
                    lambda: counts(pg_database)["stored"] == BURST + 1,
                    120,
                    what="every message after the restart",
                )
                wait_for(lambda: counts(pg_database)["pending"] == 0, 30, what="no pending")
                wait_for(
                    lambda: http_get(f"http://127.0.0.1:{health_port}/readyz")[0] == 200,
                    30,
                    what="the restarted worker to report ready",
                )

            final = counts(pg_database)
            assert final == {
                "messages": BURST + 1,
                "customers": BURST + 1,
                "received": BURST + 1,
                "pending": 0,
                "stored": BURST + 1,
            }
            status, body = http_get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            metrics = body.decode()
            assert f'crm_messages_ingested_total{{direction="inbound"}} {BURST + 1}.0' in metrics
            assert f"crm_customers_created_total {BURST + 1}.0" in metrics
    finally:
        clear_namespace(namespace)

    text = "\n".join(log.read_text(encoding="utf-8", errors="replace") for log in logs)
    assert '"event": "ingested batch"' in text or '"event": "ingested"' in text  # logs exist
    secrets = [refresh_token, PUSH_SECRET, DB_PASSWORD, gmail_server.client_secret or ""]
    secrets += list(gmail_server.auth._access)  # every access token the fake issued
    for secret in filter(None, secrets):
        assert secret not in text, "a secret reached the logs"
    for n in range(BURST + 1):
        assert f"BODYMARKER{n:05d}" not in text, "a message body reached the logs"
