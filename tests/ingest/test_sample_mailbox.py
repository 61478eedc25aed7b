"""The shipped sample mailbox, imported through the jobs, gives the right CRM."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_core import services
from crm_core.models import Conversation, Customer, EmailMessage, Lead, ReceivedMessage
from crm_core.statuses import Direction, IngestOutcome, MessageStatus
from worker.importers.run import import_takeout
from worker.importers.takeout import gmail_id_from_decimal
from worker.runtime import Runtime

SAMPLES = Path(__file__).resolve().parents[2] / "worker" / "samples"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())
MAILBOX = "info@rendetalje.dk"


def _row_counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            model.__tablename__: session.execute(
                select(func.count()).select_from(model)
            ).scalar_one()
            for model in (Customer, Lead, Conversation, EmailMessage, ReceivedMessage)
        }


def test_every_message_ends_where_it_belongs(runtime: Runtime) -> None:
    summary = import_takeout(runtime, SAMPLES / "rendetalje.mbox", MAILBOX)
    assert summary.messages == EXPECTED["summary"]["totals"]["messages"]
    assert summary.pending == 0

    with runtime.sessions() as session:
        ledger = {r.gmail_message_id: r for r in session.execute(select(ReceivedMessage)).scalars()}
        stored = {m.id: m for m in session.execute(select(EmailMessage)).scalars()}
        conversations = {c.id: c for c in session.execute(select(Conversation)).scalars()}
        customers = {c.id: c for c in session.execute(select(Customer)).scalars()}
        leads = list(session.execute(select(Lead)).scalars())

        for decimal_id, expected in EXPECTED["messages"].items():
            row = ledger[gmail_id_from_decimal(decimal_id)]
            kind = expected["kind"]
            if kind == "quarantine_or_skip":
                assert row.outcome in (
                    IngestOutcome.QUARANTINED,
                    IngestOutcome.SKIPPED,
                    IngestOutcome.STORED,
                ), decimal_id
                continue
            if kind == "skip":
                assert (row.outcome, row.reason) == (
                    IngestOutcome.SKIPPED,
                    expected["skip_reason"],
                ), decimal_id
                continue
            if kind == "bounce":
                assert row.outcome == IngestOutcome.BOUNCE, decimal_id
                continue
            assert row.outcome == IngestOutcome.STORED, (decimal_id, row.reason)
            message = stored[row.email_message_id]  # type: ignore[index]
            assert message.direction == Direction(kind), decimal_id
            conversation = conversations[message.conversation_id]
            assert conversation.gmail_thread_id == gmail_id_from_decimal(expected["thread"])
            owner = customers[conversation.customer_id]  # type: ignore[index]
            assert owner.email_normalized == expected["customer"], decimal_id

        # One customer per person, whatever the letter case; no platform, no newsletter.
        expected_customers = EXPECTED["summary"]["customers"]
        assert {c.email_normalized for c in customers.values()} == set(expected_customers)
        for customer in customers.values():
            assert customer.total_leads == expected_customers[customer.email_normalized]
            assert customer.last_contact_at is not None
        sources = Counter(lead.source for lead in leads)
        assert sources == Counter(EXPECTED["summary"]["totals"]["leads_by_source"])
        assert all(lead.customer_id for lead in leads)

        bounced = session.execute(
            select(EmailMessage.rfc822_message_id).where(
                EmailMessage.status == MessageStatus.BOUNCED
            )
        ).scalars()
        assert set(bounced) == set(EXPECTED["summary"]["bounced_message_ids"])


def test_conversations_thread_and_lead_links(runtime: Runtime) -> None:
    import_takeout(runtime, SAMPLES / "rendetalje.mbox", MAILBOX)
    with runtime.sessions() as session:
        customer = services.get_customer_by_email(session, "MADS.NIELSEN.AARHUS@outlook.dk")
        assert customer is not None and customer.total_leads == 2
        conversations = services.get_customer_conversations(session, customer.id)
        assert all(c.lead_id for c in conversations)
        assert {c.gmail_thread_id for c in conversations} == {
            gmail_id_from_decimal(m["thread"])
            for m in EXPECTED["messages"].values()
            if m["customer"] == "mads.nielsen.aarhus@outlook.dk" and m["kind"] != "skip"
        }
        for conversation in conversations:
            messages = services.get_conversation_messages(session, conversation.id)
            assert messages, conversation.subject
            assert conversation.last_contact_at == max(m.sent_at for m in messages)


def test_importing_twice_changes_nothing(runtime: Runtime) -> None:
    first = import_takeout(runtime, SAMPLES / "rendetalje.mbox", MAILBOX)
    counts = _row_counts(runtime)
    with runtime.sessions() as session:
        figures = {
            c.email_normalized: (c.total_leads, c.last_contact_at)
            for c in session.execute(select(Customer)).scalars()
        }
    second = import_takeout(runtime, SAMPLES / "rendetalje.mbox", MAILBOX)

    assert second.newly_staged == 0 and second.customers_created == 0
    assert second.leads_created == 0
    assert second.outcomes == first.outcomes
    assert _row_counts(runtime) == counts
    with runtime.sessions() as session:
        again = {
            c.email_normalized: (c.total_leads, c.last_contact_at)
            for c in session.execute(select(Customer)).scalars()
        }
    assert again == figures


def test_the_import_reports_each_message_staged_and_ingested(runtime: Runtime) -> None:
    staged: list[int] = []
    ingested: list[int] = []
    import_takeout(
        runtime,
        SAMPLES / "rendetalje.mbox",
        MAILBOX,
        on_progress=staged.append,
        on_ingested=ingested.append,
    )
    total = EXPECTED["summary"]["totals"]["messages"]
    assert sum(staged) == sum(ingested) == total
    # Again: nothing new, and every message already has its outcome.
    ingested.clear()
    import_takeout(runtime, SAMPLES / "rendetalje.mbox", MAILBOX, on_ingested=ingested.append)
    assert sum(ingested) == total


def test_an_export_holding_each_message_twice_stores_each_once(
    runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two exports joined into one file: every message appears twice in one batch."""
    export = (SAMPLES / "rendetalje.mbox").read_bytes()
    doubled = tmp_path / "doubled.mbox"
    doubled.write_bytes(export + b"\n" + export)
    staged: list[int] = []
    ingested: list[int] = []
    with caplog.at_level(logging.WARNING, logger="worker"):
        summary = import_takeout(
            runtime, doubled, MAILBOX, on_progress=staged.append, on_ingested=ingested.append
        )
    once = import_takeout(runtime, SAMPLES / "rendetalje.mbox", MAILBOX)

    total = EXPECTED["summary"]["totals"]["messages"]
    assert summary.messages == sum(staged) == 2 * total
    assert summary.newly_staged == sum(ingested) == total
    assert summary.outcomes == once.outcomes
    assert [r.getMessage() for r in caplog.records] == []  # no batch fell apart
    with runtime.sessions() as session:
        stored = Counter(session.execute(select(EmailMessage.gmail_message_id)).scalars())
    assert set(stored.values()) == {1}
