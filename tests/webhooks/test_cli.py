"""`crm webhook`: the commands a person uses, against a receiver process."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from crm_core import services
from crm_core.models import WebhookEvent
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.processes import free_port
from tests.webhooks.receiving import received, receiver
from tests.webhooks.test_embedded_delivery import local_receivers_allowed
from worker.observability.metrics import render

__all__ = ["local_receivers_allowed"]


def test_bad_input_is_one_line_each(cli: Cli) -> None:
    assert "https is required" in cli.fails(
        "webhook", "add", "http://hooks.example.com/", "--events", "*"
    )
    assert "unknown event type 'customer.deleted'" in cli.fails(
        "webhook", "add", "https://hooks.example.com/", "--events", "customer.deleted"
    )
    assert "not a web address" in cli.fails("webhook", "add", "ftp://x/", "--events", "*")
    assert "webhook endpoint not found: nope" in cli.fails("webhook", "show", "nope")
    assert "either a delivery id or --since" in cli.fails("webhook", "replay")
    assert "--endpoint goes with --since" in cli.fails(
        "webhook", "replay", "d1", "--endpoint", "e1"
    )


def test_ping_disable_enable_replay_and_remove(
    cli: Cli, tmp_path: Path, local_receivers_allowed: None
) -> None:
    port = free_port()
    log = tmp_path / "receiver.jsonl"
    added = cli.json(
        "webhook",
        "add",
        f"http://127.0.0.1:{port}/crm",
        "--events",
        "lead.created",
        "--description",
        "Dispatch board",
    )
    listed = cli.json("webhook", "list")
    assert listed["total"] == 1 and listed["webhooks"][0]["description"] == "Dispatch board"

    # The receiver is not there yet: the ping fails and waits for its retry.
    assert "pending" in cli("webhook", "test", added["id"])
    failed = cli.json("webhook", "deliveries", "--failed")["deliveries"]
    assert [d["event_type"] for d in failed] == ["webhook.ping"]
    assert "could not deliver" in failed[0]["response"]

    with receiver(port, added["secret"], log):
        cli("webhook", "replay", failed[0]["id"])
        assert [e["type"] for e in received(log)] == ["webhook.ping"]
        assert cli.json("webhook", "deliveries", "--failed")["deliveries"] == []

        cli("webhook", "disable", added["id"])
        cli.json("lead", "create", "--name", "Ida")  # waits while disabled
        assert cli.json("webhook", "show", added["id"])["enabled"] is False
        assert [e["data"].get("name") for e in received(log)] == [None]
        cli("webhook", "enable", added["id"])
        assert [e["data"].get("name") for e in received(log)] == [None, "Ida"]
        cli.json("lead", "create", "--name", "Jens")
        cli("customer", "create", "Karen", "karen@example.dk")  # not subscribed
        assert [e["data"].get("name") for e in received(log)] == [None, "Ida", "Jens"]

        cli("webhook", "replay", "--since", "01.01.2020")
        again = [e["data"].get("name") for e in received(log)]
        assert again == [None, "Ida", "Jens", None, "Ida", "Jens"]
        assert len({e["id"] for e in received(log)}) == 3  # the same webhook-ids

    cli("webhook", "remove", added["id"])
    assert cli.json("webhook", "list")["total"] == 0
    assert cli.json("webhook", "deliveries")["deliveries"] == []


def test_status_names_an_endpoint_the_crm_disabled(
    cli: Cli, database: Database, tmp_path: Path, local_receivers_allowed: None
) -> None:
    port = free_port()
    added = cli.json("webhook", "add", f"http://127.0.0.1:{port}/", "--events", "*")
    cli("webhook", "disable", added["id"])
    assert cli.json("status")["needs_attention"] == []  # by hand: not a problem
    cli("webhook", "enable", added["id"])
    cli("webhook", "test", added["id"])  # nobody listens: failing
    status = cli.json("status")
    assert status["webhooks"]["failing"] == 1 and "webhooks" in status["needs_attention"]
    assert "! failing webhooks" in cli("status")
    metrics = render(database.sessions).decode()
    assert "crm_webhook_endpoints_failing 1.0" in metrics
    assert "crm_webhook_deliveries_pending 1.0" in metrics


def test_customer_files_and_reactivation_emit_their_events(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    cli(
        "webhook",
        "add",
        "https://hooks.example.com/crm",
        "--events",
        "customer.created,customer.updated",
    )
    rows = "Name,Email,Phone\nNina Nielsen,nina@example.dk,+4522334455\nOle Olsen,ole@example.dk,\n"
    (tmp_path / "a.csv").write_text(rows, encoding="utf-8")
    cli("customer", "import", str(tmp_path / "a.csv"))
    changed = "Name,Email,Phone\nNina Nielsen,nina@example.dk,+4599887766\n"
    (tmp_path / "b.csv").write_text(changed, encoding="utf-8")
    cli("customer", "import", str(tmp_path / "b.csv"), "--on-conflict", "update")
    ole = cli.json("customer", "get", "ole@example.dk")["id"]
    cli("customer", "delete", ole)  # inactive; mail from Ole makes him active again
    conversation = cli.json("conversation", "list")  # none yet
    assert conversation["total"] == 0
    with database.sessions() as session, session.begin():
        found = services.create_conversation(session, customer_id=ole, mailbox="info@rendetalje.dk")
        services.create_email_message(
            session,
            conversation_id=found.id,
            from_address="ole@example.dk",
            to_address="info@rendetalje.dk",
            body="Hej igen",
            direction="inbound",
        )
    with database.sessions() as session:
        events = [
            (e.type, e.payload.get("changed"))
            for e in session.execute(select(WebhookEvent).order_by(WebhookEvent.seq)).scalars()
            if e.type.startswith("customer.")
        ]
    assert events == [
        ("customer.created", None),
        ("customer.created", None),
        ("customer.updated", ["phone"]),
        ("customer.updated", ["status"]),  # deleted: inactive
        ("customer.updated", ["status"]),  # active again
    ]


def test_the_next_page_of_deliveries_keeps_the_endpoint_and_filters(
    cli: Cli, local_receivers_allowed: None
) -> None:
    port = free_port()  # nothing listens: every ping fails and waits for its retry
    first = cli.json("webhook", "add", f"http://127.0.0.1:{port}/a", "--events", "*")
    cli.json("webhook", "add", f"http://127.0.0.1:{port}/b", "--events", "*")
    cli("webhook", "test", first["id"])
    cli.json("lead", "create", "--name", "Ida")  # a delivery to each endpoint
    # The first endpoint's lead.created waits behind its failed ping: two of its own.
    page = cli("webhook", "deliveries", first["id"], "--limit", "1")
    assert f"crm webhook deliveries {first['id']} --limit 1 --after" in page
    # Failed so far: the first endpoint's ping and the second's lead.created.
    failed = cli("webhook", "deliveries", "--failed", "--limit", "1")
    assert "crm webhook deliveries --failed --limit 1 --after" in failed
    assert "crm webhook list --limit 1 --after" in cli("webhook", "list", "--limit", "1")
