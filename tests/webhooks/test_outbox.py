"""The event outbox on both databases: each service writes its event in its own
transaction, bulk paths too, and nothing is written when the change rolls back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import services, webhooks
from crm_core.customers.bulk import find_or_create_customers
from crm_core.customers.bulk_changes import add_tags
from crm_core.customers.filters import CustomerFilter
from crm_core.errors import ConflictError
from crm_core.messages.bounces import mark_bounced
from crm_core.messages.bulk import NewMessage, store_new_messages
from crm_core.models import WebhookDelivery, WebhookEvent
from crm_core.statuses import DeliveryStatus, Direction
from tests.conftest import Database

T0 = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


def events(session: Session) -> list[WebhookEvent]:
    return list(session.execute(select(WebhookEvent).order_by(WebhookEvent.seq)).scalars())


def types(session: Session) -> list[str]:
    return [event.type for event in events(session)]


def subscribe_to_everything(session: Session) -> None:
    """Events are written only when an endpoint takes them."""
    webhooks.add_endpoint(session, "https://hooks.example.com/all", ["*"])


def test_without_a_subscribed_endpoint_no_event_is_written(session: Session) -> None:
    services.create_customer(session, name="Ida Holm", email="ida@example.dk")
    assert types(session) == []
    webhooks.add_endpoint(session, "https://hooks.example.com/leads", ["lead.created"])
    jens = services.create_customer(session, name="Jens Holm", email="jens@example.dk")
    services.create_lead(session, source="website", name="Jens", email="jens@example.dk")
    add_tags(session, CustomerFilter(), ["vip"])
    assert types(session) == ["lead.created"]
    # A disabled endpoint still takes its events: they go out when it is enabled.
    disabled = webhooks.add_endpoint(session, "https://hooks.example.com/c", ["customer.updated"])
    webhooks.disable_endpoint(session, disabled.id)
    services.update_customer(session, jens.id, name="Jens H")
    assert types(session) == ["lead.created", "customer.updated"]
    # Removed in the same transaction: its types are no longer written.
    webhooks.remove_endpoint(session, disabled.id)
    services.update_customer(session, jens.id, name="Jens Holm")
    assert types(session) == ["lead.created", "customer.updated"]


def test_every_service_writes_its_event_in_order(session: Session) -> None:
    subscribe_to_everything(session)
    customer = services.create_customer(session, name="Anna Jensen", email="anna@example.dk")
    services.update_customer(session, customer.id, phone="+4522334455")
    other = services.create_customer(session, name="Anna J", email="anna.j@example.dk")
    services.merge_customers(session, customer.id, other.id)
    lead = services.create_lead(session, source="website", name="Anna", email="anna@example.dk")
    services.link_lead_to_customer(session, lead.id, customer.id)
    services.set_lead_status(session, lead.id, "contacted")
    conversation = services.create_conversation(
        session,
        customer_id=customer.id,
        lead_id=lead.id,
        subject="Rengøring",
        mailbox="info@rendetalje.dk",
    )
    services.create_email_message(
        session,
        conversation_id=conversation.id,
        from_address="anna@example.dk",
        to_address="info@rendetalje.dk",
        body="Hej, kan I gøre rent på fredag?",
        direction="inbound",
        sent_at=T0,
    )
    services.create_email_message(
        session,
        conversation_id=conversation.id,
        from_address="info@rendetalje.dk",
        to_address="anna@example.dk",
        body="Ja, det kan vi.",
        direction="outbound",
        rfc822_message_id="<reply-1@rendetalje.dk>",
        sent_at=T0 + timedelta(hours=1),
    )
    mark_bounced(session, "info@rendetalje.dk", ["<reply-1@rendetalje.dk>"])
    services.close_conversation(session, conversation.id)
    quote = services.create_quote(session, total="3450", lead_id=lead.id)
    services.send_quote(session, quote.id)
    services.accept_quote(session, quote.id)
    rejected = services.create_quote(session, total="100", customer_id=customer.id)
    services.reject_quote(session, rejected.id)
    booking = services.create_booking(
        session, scheduled_at=datetime.now(UTC) + timedelta(days=3), quote_id=quote.id
    )
    services.complete_booking(session, booking.id)
    second = services.create_booking(
        session, scheduled_at=datetime.now(UTC) + timedelta(days=9), customer_id=customer.id
    )
    services.cancel_booking(session, second.id)
    webhooks.forget_customer(session, [other.id])
    webhooks.customer_erased(session, other.id)
    session.commit()

    found = events(session)
    assert [e.type for e in found] == [
        "customer.created",
        "customer.updated",
        "customer.created",
        "customer.merged",
        "lead.created",
        "lead.status_changed",  # contacted, by hand
        "conversation.created",
        "message.received",
        "message.sent",
        "message.bounced",
        "conversation.closed",
        "lead.status_changed",  # quoted, by sending the quote
        "quote.sent",
        "quote.accepted",
        "quote.rejected",
        "lead.status_changed",  # won, by the booking
        "booking.created",
        "booking.completed",
        "booking.created",
        "booking.cancelled",
        "customer.erased",
    ]
    assert set(webhooks.EVENT_TYPES) <= {e.type for e in found}
    seqs = [e.seq for e in found]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    by_type = {e.type: e for e in found}
    assert by_type["customer.updated"].payload["changed"] == ["phone"]
    assert by_type["customer.updated"].payload["phone"] == "+4522334455"
    assert by_type["customer.merged"].payload["merged_id"] == other.id
    assert by_type["quote.sent"].customer_id == customer.id  # through its lead
    assert by_type["quote.accepted"].payload["total"] == "3450.00"
    received = by_type["message.received"]
    assert received.customer_id == customer.id
    assert received.payload["from"] == "anna@example.dk"
    assert "body" not in received.payload  # bodies only for endpoints that opt in
    assert "Hej" not in str(received.payload)


def test_a_change_that_rolls_back_leaves_no_event(database: Database) -> None:
    with database.sessions() as session:
        subscribe_to_everything(session)
        services.create_customer(session, name="Bo", email="bo@example.dk")
        session.commit()
    with database.sessions() as session:
        services.update_customer(
            session, services.get_customer_by_email(session, "bo@example.dk").id, name="Bo B"
        )  # type: ignore[union-attr]
        session.rollback()
    with database.sessions() as session:
        with pytest.raises(ConflictError):
            services.create_customer(session, name="Bo 2", email="BO@example.dk")
        session.commit()
        assert types(session) == ["customer.created"]


def test_bulk_paths_write_one_event_per_change(session: Session) -> None:
    subscribe_to_everything(session)
    found = find_or_create_customers(
        session, {"a@example.dk": "A", "b@example.dk": None, "c@example.dk": "C"}
    )
    find_or_create_customers(session, {"a@example.dk": "A", "b@example.dk": "Bent Berg"})
    conversation = services.create_conversation(
        session, customer_id=found["a@example.dk"].id, mailbox="info@rendetalje.dk"
    )
    store_new_messages(
        session,
        "info@rendetalje.dk",
        [
            NewMessage(
                conversation_id=conversation.id,
                customer_id=found["a@example.dk"].id,
                gmail_message_id=f"g{n}",
                gmail_thread_id="t1",
                direction=Direction.INBOUND if n % 2 else Direction.OUTBOUND,
                sent_at=T0 + timedelta(minutes=n),
                columns={
                    "from_address": "a@example.dk",
                    "to_address": "info@rendetalje.dk",
                    "subject": f"mail {n}",
                    "body": "secret text",
                    "body_preview": "secret text",
                    "attachments": [],
                },
            )
            for n in range(4)
        ],
    )
    changed = add_tags(session, CustomerFilter(), ["vip"])
    session.commit()
    kinds = types(session)
    assert kinds.count("customer.created") == 3
    # b's placeholder name was replaced by the real one.
    assert kinds.count("customer.updated") == 1 + changed["vip"]
    assert kinds.count("message.received") == 2 and kinds.count("message.sent") == 2
    assert kinds.count("conversation.created") == 1
    for event in events(session):
        assert "secret text" not in str(event.payload)
        if event.type.startswith("message."):
            assert event.customer_id == found["a@example.dk"].id


def test_fan_out_gives_each_subscribed_endpoint_a_delivery(session: Session) -> None:
    everything = webhooks.add_endpoint(session, "https://hooks.example.com/all", ["*"])
    customers = webhooks.add_endpoint(session, "https://hooks.example.com/c", ["customer.created"])
    off = webhooks.add_endpoint(session, "https://hooks.example.com/off", ["*"])
    webhooks.disable_endpoint(session, off.id)
    session.commit()
    services.create_customer(session, name="Cai", email="cai@example.dk")
    services.create_lead(session, source="website", name="Cai")
    session.commit()
    count, endpoint_ids = webhooks.fan_out(session)
    session.commit()
    assert count == 2
    assert endpoint_ids == sorted([everything.id, customers.id])
    per_endpoint = {
        endpoint_id: n
        for endpoint_id, n in (
            (
                e,
                session.execute(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == e))
                .scalars()
                .all()
                .__len__(),
            )
            for e in (everything.id, customers.id, off.id)
        )
    }
    assert per_endpoint == {everything.id: 2, customers.id: 1, off.id: 2}
    assert webhooks.next_delivery(session, off.id) is None  # they wait while it is disabled
    webhooks.enable_endpoint(session, off.id)
    assert webhooks.next_delivery(session, off.id) is not None
    assert webhooks.fan_out(session) == (0, [])  # done once
    outgoing = webhooks.next_delivery(session, everything.id)
    assert outgoing is not None and '"type":"customer.created"' in outgoing.body
    assert outgoing.webhook_id.startswith("evt_") and outgoing.webhook_id.endswith(everything.id)


def _delivery(session: Session) -> tuple[str, str]:
    endpoint = webhooks.add_endpoint(session, "https://hooks.example.com/x", ["*"])
    session.commit()
    services.create_customer(session, name="Dorte", email="dorte@example.dk")
    session.commit()
    webhooks.fan_out(session)
    outgoing = webhooks.next_delivery(session, endpoint.id)
    assert outgoing is not None
    return endpoint.id, outgoing.delivery_id


def test_failed_attempts_back_off_then_fail_for_good(session: Session) -> None:
    endpoint_id, delivery_id = _delivery(session)
    delays = [5.0, 300.0]
    before = datetime.now(UTC)
    first = webhooks.record_attempt(
        session, delivery_id, webhooks.Attempt(500, "oops"), retry_delays=delays
    )
    assert first.status is DeliveryStatus.PENDING and first.next_attempt_at is not None
    assert timedelta(seconds=4) < first.next_attempt_at - before < timedelta(seconds=6)
    second = webhooks.record_attempt(
        session, delivery_id, webhooks.Attempt(None, "refused"), retry_delays=delays
    )
    assert second.next_attempt_at is not None
    assert timedelta(seconds=260) < second.next_attempt_at - before < timedelta(seconds=340)
    last = webhooks.record_attempt(
        session, delivery_id, webhooks.Attempt(502, "x" * 5000), retry_delays=delays
    )
    assert last.status is DeliveryStatus.FAILED and last.attempts == 3
    assert len(last.response_body or "") == 1000  # kept truncated
    endpoint = webhooks.get_endpoint(session, endpoint_id)
    assert endpoint.enabled and endpoint.failing_since is not None
    session.commit()
    health = webhooks.webhook_health(session)
    assert (health.failing, health.failed) == (1, 1)


def test_410_disables_the_endpoint_and_days_of_failure_too(session: Session) -> None:
    endpoint_id, delivery_id = _delivery(session)
    webhooks.record_attempt(session, delivery_id, webhooks.Attempt(410, "gone"))
    endpoint = webhooks.get_endpoint(session, endpoint_id)
    assert not endpoint.enabled and "410" in (endpoint.disabled_reason or "")
    assert webhooks.next_delivery(session, endpoint_id) is None

    webhooks.enable_endpoint(session, endpoint_id)
    webhooks.replay(session, delivery_id=delivery_id)
    endpoint.failing_since = datetime.now(UTC) - timedelta(days=6)
    webhooks.record_attempt(session, delivery_id, webhooks.Attempt(503, "down"))
    assert not endpoint.enabled and "failed since" in (endpoint.disabled_reason or "")
    session.commit()
    assert webhooks.webhook_health(session).disabled == 1


def test_success_clears_failing_and_the_lease_is_one_at_a_time(session: Session) -> None:
    endpoint_id, delivery_id = _delivery(session)
    webhooks.record_attempt(session, delivery_id, webhooks.Attempt(500, ""))
    webhooks.replay(session, delivery_id=delivery_id)
    webhooks.record_attempt(session, delivery_id, webhooks.Attempt(204, ""))
    assert webhooks.get_endpoint(session, endpoint_id).failing_since is None
    session.commit()
    assert webhooks.claim_endpoint(session, endpoint_id, 30)
    session.commit()
    assert not webhooks.claim_endpoint(session, endpoint_id, 30)
    webhooks.release_endpoint(session, endpoint_id)
    session.commit()
    assert webhooks.claim_endpoint(session, endpoint_id, 30)


def test_forget_customer_scrubs_payloads_and_answers(session: Session) -> None:
    endpoint = webhooks.add_endpoint(session, "https://hooks.example.com/x", ["*"])
    session.commit()
    erased = services.create_customer(
        session, name="Eva Eriksen", email="eva@example.dk", phone="+4511223344"
    )
    kept = services.create_customer(session, name="Finn", email="finn@example.dk")
    # A lead with her address that is linked to no one: found by the address.
    services.create_lead(session, source="website", name="Eva E", email="EVA@example.dk")
    session.commit()
    webhooks.fan_out(session)
    for row in webhooks.list_deliveries(session, endpoint.id).items:
        webhooks.record_attempt(
            session, row.delivery.id, webhooks.Attempt(200, "got Eva Eriksen eva@example.dk")
        )
    session.commit()

    scrubbed = webhooks.forget_customer(session, [erased.id], ["eva@example.dk"])
    webhooks.customer_erased(session, erased.id)
    session.commit()
    assert scrubbed == 2
    for event in events(session):
        text = str(event.payload).lower()
        if event.customer_id == kept.id:
            assert "finn@example.dk" in text
        else:
            assert "eva" not in text and "+4511223344" not in text
    assert events(session)[-1].type == "customer.erased"
    for row in webhooks.list_deliveries(session, endpoint.id).items:
        event = session.get(WebhookEvent, row.delivery.event_seq)
        assert event is not None
        if event.customer_id != kept.id:
            assert row.delivery.response_body is None


def test_old_events_are_pruned_unless_still_pending(session: Session) -> None:
    endpoint_id, delivery_id = _delivery(session)
    services.create_customer(session, name="Ole", email="ole@example.dk")
    session.commit()
    webhooks.fan_out(session)
    webhooks.record_attempt(session, delivery_id, webhooks.Attempt(200, "ok"))
    session.commit()
    assert webhooks.prune_events(session, datetime.now(UTC) - timedelta(days=1)) == 0
    # Both are older than a cutoff in the future; Ole's delivery is still pending.
    assert webhooks.prune_events(session, datetime.now(UTC) + timedelta(seconds=1)) == 1
    session.commit()
    assert types(session) == ["customer.created"]
    assert [row.event_type for row in webhooks.list_deliveries(session, endpoint_id).items] == [
        "customer.created"
    ]
