"""The embedded default (jobs in-process): every event, caused by ingestion and by the
command line, reaches a receiver process that verifies its signature, in order."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_core import services, webhooks
from crm_core.models import WebhookDelivery, WebhookEvent
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.ingest.test_sample_mailbox import SAMPLES
from tests.processes import free_port
from tests.webhooks.receiving import first_arrivals, received, receiver
from worker.config import load_settings
from worker.jobs.broker import install_broker
from worker.runtime import unit_of_work, use_settings
from worker.webhooks import sweep

SAMPLE = SAMPLES / "rendetalje.mbox"


@pytest.fixture
def local_receivers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_WEBHOOKS_ALLOW_HTTP", "true")
    monkeypatch.setenv("CRM_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true")


def expected_ids(database: Database, endpoint_id: str) -> list[str]:
    """The webhook-ids of the endpoint's deliveries, in event order."""
    with database.sessions() as session:
        rows = session.execute(
            select(WebhookEvent.id)
            .join(WebhookDelivery, WebhookDelivery.event_seq == WebhookEvent.seq)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookEvent.seq)
        ).scalars()
        return [f"{event_id}_{endpoint_id}" for event_id in rows]


def test_every_event_is_delivered_signed_and_in_order(
    cli: Cli, database: Database, tmp_path: Path, local_receivers_allowed: None
) -> None:
    port = free_port()
    log = tmp_path / "receiver.jsonl"
    base = f"http://127.0.0.1:{port}"
    everything = cli.json("webhook", "add", f"{base}/all", "--events", "*", "--include-bodies")
    customers = cli.json(
        "webhook", "add", f"{base}/customers", "--events", "customer.created,customer.updated"
    )
    with receiver(port, [everything["secret"], customers["secret"]], log):
        cli("import", "mbox", str(SAMPLE))  # ingestion, jobs in this process
        anna = cli.create("Anna Jensen", "anna@example.dk")
        duplicate = cli.create("Anna J", "anna.j@example.dk")
        cli("customer", "update", anna, "--phone", "+4522334455")
        cli("customer", "merge", anna, duplicate)
        lead = cli.json("lead", "create", "--name", "Anna", "--email", "anna@example.dk", "--link")
        cli("lead", "update", lead["id"], "--status", "contacted")
        conversation = cli.json("conversation", "list")["conversations"][0]["id"]
        cli("conversation", "close", conversation)
        quote = cli.json("quote", "create", "--total", "3450", "--lead", lead["id"])["id"]
        cli("quote", "send", quote)
        cli("quote", "accept", quote)
        lost = cli.json("quote", "create", "--total", "99", "--customer", anna)["id"]
        cli("quote", "reject", lost)
        booking = cli.json("booking", "create", "--at", "2030-01-02T09:00", "--quote", quote)
        cli("booking", "complete", booking["id"])
        other = cli.json("booking", "create", "--at", "2030-02-03T09:00", "--customer", anna)
        cli("booking", "cancel", other["id"])
        cli("privacy", "erase", "anna.j@example.dk", "--yes")

    answered = received(log)
    assert answered and all(entry["verified"] for entry in answered)
    assert all(entry["status"] == 200 for entry in answered)
    to_all = [e for e in answered if e["path"] == "/all"]
    assert {e["type"] for e in to_all} == set(webhooks.EVENT_TYPES)
    assert [i for i in first_arrivals(log) if i.endswith(everything["id"])] == expected_ids(
        database, everything["id"]
    )
    assert [i for i in first_arrivals(log) if i.endswith(customers["id"])] == expected_ids(
        database, customers["id"]
    )
    assert {e["type"] for e in answered if e["path"] == "/customers"} == {
        "customer.created",
        "customer.updated",
    }
    # Mail bodies only where asked for.
    mail = [e for e in to_all if e["type"] == "message.received"]
    assert mail and all(e["data"]["body"] for e in mail)
    assert all("body" not in e["data"] for e in answered if e["path"] == "/customers")
    # Every webhook-id names its event and its endpoint: each came once here.
    assert len({e["id"] for e in answered}) == len(answered)
    # The erasure left nothing of Anna in the stored events and answers (the sample
    # mailbox has another Anna Jensen: her addresses and phone are what must be gone).
    with database.sessions() as session:
        stored = [str(e.payload) for e in session.execute(select(WebhookEvent)).scalars()]
        answers = [str(d.response_body) for d in session.execute(select(WebhookDelivery)).scalars()]
    personal = ("anna@example.dk", "anna.j@example.dk", "22334455")
    assert stored and not [p for p in stored + answers if any(x in p for x in personal)]
    status = cli.json("status")
    assert status["lead_scoring"]["rescore_waiting"] is False  # the erasure rescored
    assert status["webhooks"]["deliveries_pending"] == 0
    assert status["webhooks"]["events_not_fanned_out"] == 0


def test_secrets_are_shown_once_and_masked_everywhere_else(
    cli: Cli, local_receivers_allowed: None
) -> None:
    added = cli.json("webhook", "add", "https://hooks.example.com/crm", "--events", "*")
    secret = added["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    outputs = [
        cli("webhook", "list"),
        cli("webhook", "list", "--json"),
        cli("webhook", "show", added["id"]),
        cli("webhook", "show", added["id"], "--json"),
        cli("status"),
        cli("status", "--json"),
    ]
    for output in outputs:
        assert secret not in output and secret[6:20] not in output
    assert secret[-4:] in cli("webhook", "show", added["id"])  # masked, recognisable
    rotated = cli.json("webhook", "rotate-secret", added["id"])["secret"]
    assert rotated != secret and rotated not in cli("webhook", "show", added["id"])


def test_the_sweep_retries_and_fans_out_what_no_job_sent(
    database: Database, tmp_path: Path
) -> None:
    """What `crm watch` runs every sweep_interval_seconds, with the inline broker."""
    settings = load_settings(
        database={"url": database.url, "pg_schema": database.schema},
        webhooks={
            "allow_http": True,
            "allow_private_networks": True,
            "retry_delays_seconds": [0.5, 0.5],
        },
    )
    runtime = use_settings(settings)
    install_broker(settings)
    port = free_port()
    log = tmp_path / "receiver.jsonl"
    with unit_of_work(runtime.sessions) as session:
        endpoint = webhooks.add_endpoint(
            session, f"http://127.0.0.1:{port}/", ["*"], allow_http=True
        )
        secret = endpoint.secret
    with unit_of_work(runtime.sessions) as session:  # delivered now: nobody listens
        services.create_customer(session, name="Lis", email="lis@example.dk")
    with database.sessions() as session, session.begin():  # no unit of work: no job sent
        services.create_customer(session, name="Mads", email="mads@example.dk")
    with database.sessions() as session:
        health = webhooks.webhook_health(session)
    assert (health.pending, health.not_fanned_out) == (1, 1)
    with receiver(port, secret, log):
        time.sleep(0.6)  # the retry is due
        sweep(runtime)
    assert [e["data"]["name"] for e in received(log)] == ["Lis", "Mads"]
    with database.sessions() as session:
        health = webhooks.webhook_health(session)
    assert (health.pending, health.not_fanned_out, health.failing) == (0, 0, 0)
