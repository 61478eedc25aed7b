"""The AI-emails report reads counts kept per model: every way a message is stored or
deleted keeps them equal to a count of the messages themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select, true
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.analytics.ai_counts import recount_ai_messages
from crm_core.messages import NewMessage, store_new_messages
from crm_core.models import AiMessageCount, EmailMessage
from crm_core.privacy import erase_subject
from crm_core.privacy.keys import address_hasher
from crm_core.statuses import Direction

MAILBOX = "info@rendetalje.dk"


def _report(session: Session) -> list[tuple[str, int]]:
    return [(m.model, m.count) for m in services.ai_emails_by_model(session)]


def _counted_from_messages(session: Session) -> list[tuple[str, int]]:
    model = func.coalesce(EmailMessage.ai_model, "unknown")
    rows = session.execute(
        select(model, func.count())
        .where(EmailMessage.is_ai_generated == true())
        .group_by(model)
        .order_by(func.count().desc(), model)
    )
    return [(str(name), int(count)) for name, count in rows]


def _ai_message(session: Session, conversation_id: str, model: str | None, gmail_id: str) -> None:
    services.create_email_message(
        session,
        conversation_id=conversation_id,
        from_address=MAILBOX,
        to_address="kunde@example.dk",
        body="Tak for din henvendelse.",
        direction="outbound",
        gmail_message_id=gmail_id,
        is_ai_generated=True,
        ai_model=model,
    )


def test_counts_follow_every_way_messages_come_and_go(session: Session) -> None:
    mette = services.find_or_create_customer(session, "mette@example.dk", "Mette Hansen")
    ole = services.find_or_create_customer(session, "ole@example.dk", "Ole Jensen")
    theirs = services.create_conversation(session, customer_id=mette.id, mailbox=MAILBOX)
    others = services.create_conversation(session, customer_id=ole.id, mailbox=MAILBOX)
    _ai_message(session, theirs.id, "gpt-4o", "g1")
    _ai_message(session, theirs.id, "gpt-4o", "g2")
    _ai_message(session, theirs.id, None, "g3")
    _ai_message(session, others.id, "claude-sonnet", "g4")
    _ai_message(session, others.id, "gpt-4o", "g5")
    _ai_message(session, others.id, "gpt-4o", "g5")  # the same Gmail message again: no count
    services.reply(
        session, others.id, "Vi kommer tirsdag.", author="Mette", is_ai_generated=True,
        ai_model="claude-sonnet", sender=MAILBOX,
    )  # fmt: skip
    services.reply(session, others.id, "Skrevet i hånden.", author="Mette", sender=MAILBOX)
    # Mail as it arrives, many at once: never AI-written.
    store_new_messages(
        session,
        MAILBOX,
        [
            NewMessage(theirs.id, mette.id, f"in{i}", None, Direction.INBOUND,
                       datetime(2026, 11, 2, 9, i, tzinfo=UTC),
                       {"from_address": "mette@example.dk", "to_address": MAILBOX,
                        "body": "Hej", "is_ai_generated": True, "ai_model": "gpt-4o"})
            for i in range(3)
        ],
    )  # fmt: skip
    session.commit()
    assert _report(session) == [("gpt-4o", 3), ("claude-sonnet", 2), ("unknown", 1)]
    assert _report(session) == _counted_from_messages(session)

    # Erasing Mette deletes her conversation's messages, and their counts.
    erase_subject(session, "mette@example.dk", address_hasher(b"k" * 32))
    session.commit()
    assert _report(session) == [("claude-sonnet", 2), ("gpt-4o", 1)]
    assert _report(session) == _counted_from_messages(session)

    # Counting again (the repair after a bulk load) finds the same.
    session.execute(delete(AiMessageCount))
    assert _report(session) == []
    recount_ai_messages(session)
    assert _report(session) == [("claude-sonnet", 2), ("gpt-4o", 1)]


def test_merging_customers_moves_messages_but_not_counts(session: Session) -> None:
    kept = services.find_or_create_customer(session, "mette@example.dk", "Mette Hansen")
    duplicate = services.find_or_create_customer(session, "mette.h@example.dk", "Mette Hansen")
    conversation = services.create_conversation(session, customer_id=duplicate.id, mailbox=MAILBOX)
    _ai_message(session, conversation.id, "gpt-4o", "g1")
    services.merge_customers(session, kept.id, duplicate.id)
    session.commit()
    assert _report(session) == [("gpt-4o", 1)] == _counted_from_messages(session)
