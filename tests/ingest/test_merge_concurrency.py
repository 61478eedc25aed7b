"""Merging two customers while mail from the duplicate's address is being filed.

Whichever transaction gets the customer rows first, the mail ends on the kept
customer and every figure equals a recompute from the rows, on both databases and on
both ingestion paths (the set-based batch and the message-by-message one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.db import transaction
from crm_core.inbox import StagedMessage, claim_received_messages, stage_messages
from crm_core.models import Conversation, Customer, EmailMessage
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from worker.ingest.bulk import ingest_many
from worker.runtime import Runtime

MAILBOX = "info@rendetalje.dk"
HOLD = 0.5  # seconds the first transaction keeps its locks after the second has started


def _setup(database: Database) -> tuple[str, str]:
    """The kept customer with a booked quote, the duplicate with a lead and mail."""
    with transaction(database.sessions) as session:
        keep = services.create_customer(session, name="Søren Madsen", email="soren@gmail.com")
        dup = services.find_or_create_customer(session, "soren@gmial.com", "Søren Madsen")
        lead = services.create_lead(session, source="rengoring.nu", name="Søren Madsen")
        services.link_lead_to_customer(session, lead.id, dup.id)
        quote = services.create_quote(session, total="3450.50", lead_id=lead.id)
        services.accept_quote(session, quote.id)
        services.create_booking(
            session, quote_id=quote.id, scheduled_at=datetime(2025, 10, 31, 7, tzinfo=UTC)
        )
        thread = services.create_conversation(session, customer_id=dup.id, lead_id=lead.id)
        services.create_email_message(
            session,
            conversation_id=thread.id,
            from_address="soren@gmial.com",
            to_address=MAILBOX,
            body="Hej",
            direction="inbound",
            sent_at=datetime(2025, 10, 6, 10, tzinfo=UTC),
        )
        return keep.id, dup.id


def _stage(database: Database, with_thread: bool) -> str:
    raw = (
        b"From: Soren Madsen <soren@gmial.com>\r\nTo: info@rendetalje.dk\r\n"
        b"Subject: Igen\r\nDate: Mon, 01 Dec 2025 10:00:00 +0100\r\n"
        b"Message-ID: <merge-race@example.com>\r\n\r\nHej igen\r\n"
    )
    with transaction(database.sessions) as session:
        stage_messages(
            session,
            [
                StagedMessage(
                    mailbox=MAILBOX,
                    gmail_message_id="19a0000000000001",
                    raw=raw,
                    source="api",
                    gmail_thread_id="19a0000000000001" if with_thread else None,
                    label_ids=["INBOX"],
                    received_at=datetime(2025, 12, 1, 9, tzinfo=UTC),
                )
            ],
        )
    return "19a0000000000001"


def _ingest(runtime: Runtime, gmail_id: str) -> Callable[[Session], None]:
    def run(session: Session) -> None:
        rows = claim_received_messages(session, MAILBOX, [gmail_id])
        results = ingest_many(session, list(rows.values()), runtime.rules, runtime.limits)
        assert [r.outcome for r in results] == [IngestOutcome.STORED]

    return run


def _merge(keep: str, dup: str) -> Callable[[Session], None]:
    def run(session: Session) -> None:
        services.merge_customers(session, keep, dup)

    return run


def _race(
    database: Database, first: Callable[[Session], None], second: Callable[[Session], None]
) -> tuple[float, float]:
    """``first`` does its work and holds its transaction open while ``second`` starts;
    returns when each committed."""
    worked, started = threading.Event(), threading.Event()
    done: dict[str, float] = {}
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with transaction(database.sessions) as session:
                first(session)
                worked.set()
                started.wait(10)
                time.sleep(HOLD)
            done["first"] = time.monotonic()
        except BaseException as exc:  # reported below
            errors.append(exc)
            worked.set()

    def two() -> None:
        worked.wait(10)
        started.set()
        try:
            with transaction(database.sessions) as session:
                second(session)
            done["second"] = time.monotonic()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return done["first"], done["second"]


def _check(database: Database, keep: str, dup: str) -> None:
    with database.sessions() as session:
        message = session.execute(
            select(EmailMessage).where(EmailMessage.body.like("Hej igen%"))
        ).scalar_one()
        conversation = session.get(Conversation, message.conversation_id)
        assert conversation is not None and conversation.customer_id == keep
        assert services.count_conversations(session, customer_id=dup) == 0
        stored = {
            c.id: (c.total_leads, c.total_bookings, c.total_revenue, c.last_contact_at)
            for c in session.execute(select(Customer).where(Customer.id.in_([keep, dup]))).scalars()
        }
        services.recompute_all_stats(session)
        recomputed = {
            c.id: (c.total_leads, c.total_bookings, c.total_revenue, c.last_contact_at)
            for c in session.execute(select(Customer).where(Customer.id.in_([keep, dup]))).scalars()
        }
        session.rollback()
    assert stored == recomputed
    assert stored[keep][:3] == (1, 1, 3450.50)
    assert stored[keep][3] == datetime(2025, 12, 1, 9, tzinfo=UTC)
    assert stored[dup][:3] == (0, 0, 0)


@pytest.mark.parametrize("with_thread", [True, False], ids=["batch", "one-by-one"])
def test_mail_arriving_during_a_merge_lands_on_the_kept_customer(
    database: Database, runtime: Runtime, with_thread: bool
) -> None:
    keep, dup = _setup(database)
    gmail_id = _stage(database, with_thread)
    merged, ingested = _race(database, _merge(keep, dup), _ingest(runtime, gmail_id))
    assert ingested > merged  # the mail waited for the merge
    _check(database, keep, dup)


@pytest.mark.parametrize("with_thread", [True, False], ids=["batch", "one-by-one"])
def test_a_merge_started_while_mail_is_filed_moves_that_mail_too(
    database: Database, runtime: Runtime, with_thread: bool
) -> None:
    keep, dup = _setup(database)
    gmail_id = _stage(database, with_thread)
    ingested, merged = _race(database, _ingest(runtime, gmail_id), _merge(keep, dup))
    assert merged > ingested  # the merge waited for the mail
    _check(database, keep, dup)
