"""`crm quarantine list | show | retry`: what could not be processed, why, and again."""

from __future__ import annotations

import pytest

from crm_core.models import ReceivedMessage
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.ingest.test_sample_mailbox import EXPECTED, SAMPLES
from worker.mail.message import Unparseable
from worker.mail.parse import parse_message

SAMPLE = str(SAMPLES / "rendetalje.mbox")


@pytest.fixture
def quarantined(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """The sample imported with a size limit most of its mail is over."""
    monkeypatch.setenv("CRM_LIMITS_MAX_MESSAGE_BYTES", "2500")
    cli("import", "mbox", SAMPLE)
    rows: list[dict[str, object]] = cli.json("quarantine", "list", "--limit", "1000")
    return rows


def body_lines(database: Database, received_id: str) -> list[str]:
    """The longer lines of the message's body text (a short one may be a name)."""
    with database.sessions() as session:
        raw = session.get(ReceivedMessage, received_id).raw  # type: ignore[union-attr]
    parsed = parse_message(raw)
    assert not isinstance(parsed, Unparseable)
    return [line.strip() for line in parsed.body_text.splitlines() if len(line.strip()) > 20]


def test_list_and_show_say_why_and_never_the_body(
    cli: Cli, database: Database, quarantined: list[dict]
) -> None:
    assert len(quarantined) > 10
    assert all(str(row["reason"]).startswith("unparseable: too large:") for row in quarantined)
    listed = cli("quarantine", "list")
    assert f"Total: {len(quarantined)} quarantined messages" in listed
    assert "too large" in listed

    first = quarantined[0]
    shown = cli("quarantine", "show", str(first["id"]))
    assert str(first["gmail_message_id"]) in shown and "too large" in shown
    details = cli.json("quarantine", "show", str(first["id"]))
    assert details["headers"]["From"] and details["outcome"] == "quarantined"
    body = body_lines(database, str(first["id"]))
    assert body and not [line for line in body if line in shown]


def test_retry_after_the_cause_is_fixed_files_everything(
    cli: Cli, quarantined: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    one = str(quarantined[0]["id"])
    again = cli("quarantine", "retry", one)  # the limit still applies
    assert "Outcome" in again and "quarantined" in again

    monkeypatch.delenv("CRM_LIMITS_MAX_MESSAGE_BYTES")
    done = cli("quarantine", "retry", "--all")
    assert f"Retried {len(quarantined)} messages" in done
    assert "Quarantined" not in done
    results = {row["outcome"] for row in cli.json("quarantine", "retry", one)}
    assert results <= {"stored", "skipped", "bounce"}
    assert cli.json("quarantine", "list") == []
    customers = cli.json("customer", "list")
    assert len(customers) == EXPECTED["summary"]["totals"]["customers"]


def test_retry_needs_ids_or_all(cli: Cli, database: Database) -> None:
    error = "Error: name the messages to retry by ID, or give --all"
    assert cli.fails("quarantine", "retry") == error
    assert cli.fails("quarantine", "retry", "some-id", "--all") == error
    assert "some-id" in cli.fails("quarantine", "retry", "some-id")
    assert "Retried 0 messages" in cli("quarantine", "retry", "--all")
