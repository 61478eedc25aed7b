"""Customer figures follow every workflow of the specification, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.errors import ConflictError
from crm_core.models import Customer

WHEN = datetime(2025, 10, 6, 8, 0, tzinfo=UTC)


def figures(session: Session, customer_id: str) -> tuple[int, int, Decimal]:
    session.expire_all()
    customer = services.get_customer_by_id(session, customer_id)
    assert customer is not None
    return customer.total_leads, customer.total_bookings, customer.total_revenue


def test_new_lead_to_customer_flow(session: Session) -> None:
    lead = services.create_lead(
        session, source="rengoring.nu", name="Anna Jensen", email="anna@example.dk"
    )
    customer = services.find_or_create_customer(session, "anna@example.dk", "Anna Jensen")
    services.create_conversation(
        session, customer_id=customer.id, lead_id=lead.id, gmail_thread_id="t1"
    )
    services.link_lead_to_customer(session, lead.id, customer.id)
    session.commit()
    assert figures(session, customer.id) == (1, 0, 0)

    second = services.create_lead(session, source="leadpoint", name="Anna Jensen")
    services.link_lead_to_customer(session, second.id, customer.id)
    services.link_lead_to_customer(session, second.id, customer.id)  # twice: no double count
    session.commit()
    assert figures(session, customer.id) == (2, 0, 0)


def test_quote_booking_revenue_flow(session: Session) -> None:
    customer = services.find_or_create_customer(session, "mette@example.dk", "Mette")
    lead = services.create_lead(session, source="website")
    services.link_lead_to_customer(session, lead.id, customer.id)
    quote = services.create_quote(session, lead_id=lead.id, total="3450.50")
    services.send_quote(session, quote.id)
    session.commit()
    assert figures(session, customer.id) == (1, 0, 0)  # a sent quote is not revenue

    services.accept_quote(session, quote.id)
    session.commit()
    assert figures(session, customer.id) == (1, 0, Decimal("3450.50"))

    services.accept_quote(session, quote.id)  # accepting twice counts once
    booking = services.create_booking(session, quote_id=quote.id, scheduled_at=WHEN)
    session.commit()
    assert booking.lead_id == lead.id
    assert figures(session, customer.id) == (1, 1, Decimal("3450.50"))

    direct = services.create_booking(session, customer_id=customer.id, scheduled_at=WHEN)
    session.commit()
    assert figures(session, customer.id) == (1, 2, Decimal("3450.50"))

    services.cancel_booking(session, direct.id)
    services.cancel_booking(session, direct.id)
    session.commit()
    assert figures(session, customer.id) == (1, 1, Decimal("3450.50"))


def test_rejected_quote_is_not_revenue_and_final(session: Session) -> None:
    customer = services.find_or_create_customer(session, "x@example.dk")
    quote = services.create_quote(session, customer_id=customer.id, total=1000)
    services.reject_quote(session, quote.id)
    session.commit()
    assert figures(session, customer.id) == (0, 0, 0)
    with pytest.raises(ConflictError, match="rejected"):
        services.accept_quote(session, quote.id)


def test_business_moves_with_a_relinked_lead(session: Session) -> None:
    first = services.find_or_create_customer(session, "first@example.dk")
    second = services.find_or_create_customer(session, "second@example.dk")
    lead = services.create_lead(session, source="leadpoint")
    services.link_lead_to_customer(session, lead.id, first.id)
    # Quote names the first customer directly too: it must still count only once.
    quote = services.create_quote(session, lead_id=lead.id, customer_id=first.id, total=2000)
    services.accept_quote(session, quote.id)
    services.create_booking(session, lead_id=lead.id, scheduled_at=WHEN)
    session.commit()
    assert figures(session, first.id) == (1, 1, Decimal(2000))

    services.link_lead_to_customer(session, lead.id, second.id)
    session.commit()
    assert figures(session, first.id) == (0, 0, 0)
    assert figures(session, second.id) == (1, 1, Decimal(2000))


def test_unlinked_lead_business_counts_for_direct_customer(session: Session) -> None:
    customer = services.find_or_create_customer(session, "direct@example.dk")
    lead = services.create_lead(session, source="manual")
    quote = services.create_quote(session, lead_id=lead.id, customer_id=customer.id, total=500)
    services.accept_quote(session, quote.id)
    session.commit()
    assert figures(session, customer.id) == (0, 0, Decimal(500))


def test_stats_never_touch_last_contact(session: Session) -> None:
    customer = services.find_or_create_customer(session, "c@example.dk")
    conversation = services.create_conversation(session, customer_id=customer.id)
    services.create_email_message(
        session,
        conversation_id=conversation.id,
        from_address="c@example.dk",
        to_address="info@rendetalje.dk",
        body="Hej",
        direction="inbound",
        sent_at=WHEN,
    )
    services.create_booking(session, customer_id=customer.id, scheduled_at=WHEN + timedelta(7))
    services.update_customer_stats(session, customer.id)
    services.recompute_all_stats(session)
    session.commit()
    stored = services.get_customer_by_id(session, customer.id)
    assert stored is not None and stored.last_contact_at == WHEN


def test_bulk_recompute_repairs_drift_and_equals_per_customer(session: Session) -> None:
    customers = [services.find_or_create_customer(session, f"c{n}@example.dk") for n in range(6)]
    for n, customer in enumerate(customers):
        for k in range(n % 3):
            lead = services.create_lead(session, source="rengoring.nu")
            services.link_lead_to_customer(session, lead.id, customer.id)
            quote = services.create_quote(session, lead_id=lead.id, total=100 * (k + 1))
            if k % 2 == 0:
                services.accept_quote(session, quote.id)
                services.create_booking(session, quote_id=quote.id, scheduled_at=WHEN)
        if n % 2:
            services.create_booking(session, customer_id=customer.id, scheduled_at=WHEN)
    session.commit()
    expected = {c.id: figures(session, c.id) for c in customers}

    # Corrupt every figure, then repair them all in one statement.
    session.execute(update(Customer).values(total_leads=99, total_bookings=-1, total_revenue=7))
    session.commit()
    assert services.recompute_all_stats(session) == len(customers)
    session.commit()
    assert {c.id: figures(session, c.id) for c in customers} == expected

    for customer in customers:
        services.update_customer_stats(session, customer.id)
    session.commit()
    assert {c.id: figures(session, c.id) for c in customers} == expected
    assert expected[customers[2].id] == (2, 1, Decimal(100))
    assert expected[customers[5].id] == (2, 2, Decimal(100))


def test_a_rejected_quote_cannot_be_booked(session: Session) -> None:
    customer = services.find_or_create_customer(session, "r@example.dk")
    quote = services.create_quote(session, customer_id=customer.id, total=100)
    services.reject_quote(session, quote.id)
    session.commit()
    with pytest.raises(ConflictError, match="rejected"):
        services.create_booking(session, quote_id=quote.id, scheduled_at=WHEN)
    session.rollback()
    assert figures(session, customer.id) == (0, 0, 0)


def test_lead_created_without_key_has_a_status_enum(session: Session) -> None:
    from crm_core.statuses import LeadStatus

    lead = services.create_lead(session, source="manual", name="X")
    assert lead.status is LeadStatus.NEW


def test_bulk_linked_leads_are_idempotent_and_counted(session: Session) -> None:
    from crm_core.customers.bulk import find_or_create_customers
    from crm_core.leads.bulk import create_linked_leads

    customers = find_or_create_customers(
        session, {"A@Example.dk": "Anna", "b@example.dk": None, "a@example.dk": None}
    )
    assert set(customers) == {"a@example.dk", "b@example.dk"}
    assert customers["a@example.dk"].name == "Anna"
    seeds = [
        {"idempotency_key": "box:1", "customer_id": customers["a@example.dk"].id, "source": "x"},
        {"idempotency_key": "box:2", "customer_id": customers["a@example.dk"].id, "source": "x"},
        {"idempotency_key": "box:3", "customer_id": customers["b@example.dk"].id, "source": "y"},
    ]
    first = create_linked_leads(session, seeds)
    again = create_linked_leads(session, seeds)
    session.commit()
    assert {k: v.id for k, v in first.items()} == {k: v.id for k, v in again.items()}
    assert figures(session, customers["a@example.dk"].id) == (2, 0, 0)
    assert figures(session, customers["b@example.dk"].id) == (1, 0, 0)
