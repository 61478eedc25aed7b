"""Conversations by Gmail thread and idempotent email messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.errors import ConflictError, InvalidStatusError, NotFoundError
from crm_core.models import Customer
from crm_core.statuses import ConversationStatus, Direction

T0 = datetime(2025, 9, 30, 14, 30, tzinfo=UTC)


def _customer(session: Session) -> Customer:
    return services.find_or_create_customer(session, "customer@example.com", "Customer Name")


def test_seed_email_response_flow(session: Session) -> None:
    customer = _customer(session)
    lead = services.create_lead(session, source="rengoring.nu", name="Customer Name")
    conversation = services.get_conversation_by_gmail_thread_id(session, "thread-1")
    assert conversation is None
    conversation = services.create_conversation(
        session,
        customer_id=customer.id,
        lead_id=lead.id,
        subject="Tilbud på rengøring",
        gmail_thread_id="thread-1",
    )
    services.create_email_message(
        session,
        conversation_id=conversation.id,
        gmail_message_id="msg123",
        from_address="info@rendetalje.dk",
        to_address="customer@example.com",
        subject="Tilbud på rengøring",
        body="Hej,\n\nTak for din henvendelse.  Prisen er 3.450 kr.",
        direction="outbound",
        is_ai_generated=True,
        ai_model="gemini-1.5-pro",
        sent_at=T0,
    )
    session.commit()

    found = services.get_conversation_by_gmail_thread_id(session, "thread-1")
    assert found is not None and found.id == conversation.id
    message = services.get_email_message_by_gmail_id(session, "msg123")
    assert message is not None
    assert message.direction == Direction.OUTBOUND
    assert message.body_preview == "Hej, Tak for din henvendelse. Prisen er 3.450 kr."
    assert (message.is_ai_generated, message.ai_model) == (True, "gemini-1.5-pro")
    assert message.gmail_thread_id == "thread-1"
    session.refresh(customer)
    assert customer.last_contact_at == T0
    assert found.last_contact_at == T0


def test_create_email_message_is_idempotent(session: Session) -> None:
    conversation = services.create_conversation(
        session,
        customer_id=_customer(session).id,
        gmail_thread_id="t",
        mailbox="info@rendetalje.dk",
    )
    first = services.create_email_message(
        session,
        conversation_id=conversation.id,
        gmail_message_id="m1",
        from_address="info@rendetalje.dk",
        to_address="customer@example.com",
        body="AI draft",
        direction="outbound",
        is_ai_generated=True,
        ai_model="gemini-1.5-pro",
        sent_at=T0,
    )
    session.commit()
    second = services.create_email_message(
        session,
        conversation_id=conversation.id,
        gmail_message_id="m1",
        from_address="someone@else.dk",
        to_address="x@example.com",
        body="different",
        direction="inbound",
        sent_at=T0 + timedelta(days=3),
    )
    session.commit()

    assert second.id == first.id
    assert (second.body, second.direction, second.is_ai_generated) == ("AI draft", "outbound", True)
    assert len(services.get_conversation_messages(session, conversation.id)) == 1
    # The duplicate did not move last contact forward either.
    customer = services.get_customer_by_email(session, "customer@example.com")
    assert customer is not None and customer.last_contact_at == T0


def test_last_contact_only_moves_forward(session: Session) -> None:
    customer = _customer(session)
    conversation = services.create_conversation(session, customer_id=customer.id)
    for n, when in enumerate([T0, T0 - timedelta(days=5), T0 + timedelta(hours=1)]):
        services.create_email_message(
            session,
            conversation_id=conversation.id,
            gmail_message_id=f"m{n}",
            from_address="customer@example.com",
            to_address="info@rendetalje.dk",
            body="…",
            direction="inbound",
            sent_at=when,
        )
    session.commit()
    session.refresh(customer)
    session.refresh(conversation)
    assert customer.last_contact_at == T0 + timedelta(hours=1)
    assert conversation.last_contact_at == T0 + timedelta(hours=1)
    messages = services.get_conversation_messages(session, conversation.id)
    assert [m.sent_at for m in messages] == sorted(m.sent_at for m in messages)


def test_gmail_ids_are_unique_per_mailbox(session: Session) -> None:
    a = services.create_conversation(session, gmail_thread_id="t1", mailbox="info@rendetalje.dk")
    b = services.create_conversation(session, gmail_thread_id="t1", mailbox="lars@rendetalje.dk")
    with pytest.raises(ConflictError):
        services.create_conversation(session, gmail_thread_id="t1", mailbox="INFO@rendetalje.dk")
    args = {"from_address": "a@b.dk", "to_address": "c@d.dk", "body": "x", "direction": "inbound"}
    m1 = services.create_email_message(session, conversation_id=a.id, gmail_message_id="m", **args)
    m2 = services.create_email_message(session, conversation_id=b.id, gmail_message_id="m", **args)
    session.commit()
    assert m1.id != m2.id
    lookup = services.get_email_message_by_gmail_id(session, "m", "lars@rendetalje.dk")
    assert lookup is not None and lookup.id == m2.id
    conv = services.get_conversation_by_gmail_thread_id(session, "t1", "lars@rendetalje.dk")
    assert conv is not None and conv.id == b.id


def test_find_or_create_conversation_fills_missing_links(session: Session) -> None:
    customer = _customer(session)
    first = services.find_or_create_conversation(
        session, mailbox="info@rendetalje.dk", gmail_thread_id="t9", subject="Hej"
    )
    again = services.find_or_create_conversation(
        session, mailbox="Info@Rendetalje.dk", gmail_thread_id="t9", customer_id=customer.id
    )
    session.commit()
    assert again.id == first.id
    assert again.customer_id == customer.id
    assert [c.id for c in services.get_customer_conversations(session, customer.id)] == [first.id]


def test_close_conversation(session: Session) -> None:
    conversation = services.create_conversation(session, subject="Vinduespudsning", channel="phone")
    closed = services.close_conversation(session, conversation.id)
    session.commit()
    assert closed.status == ConversationStatus.CLOSED and closed.closed_at is not None
    with pytest.raises(NotFoundError):
        services.close_conversation(session, "missing")


def test_invalid_values_are_refused(session: Session) -> None:
    with pytest.raises(InvalidStatusError, match="channel"):
        services.create_conversation(session, channel="fax")
    conversation = services.create_conversation(session)
    with pytest.raises(InvalidStatusError, match="direction"):
        services.create_email_message(
            session,
            conversation_id=conversation.id,
            from_address="a@b.dk",
            to_address="c@d.dk",
            body="x",
            direction="sideways",
        )
    with pytest.raises(NotFoundError, match="customer"):
        services.create_conversation(session, customer_id="missing")
