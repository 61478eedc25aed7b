"""Linking leads to one customer from many transactions at once never deadlocks.

Each thread does what ``crm lead create --email same@x.dk --link`` does: create a lead,
find or create the customer, link the lead, in one transaction.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from crm_core import services
from crm_core.db import transaction
from crm_core.models import Customer
from tests.conftest import Database

THREADS = 16


def test_concurrent_links_to_one_customer_all_succeed(database: Database) -> None:
    start = threading.Barrier(THREADS)

    def link(n: int) -> str | None:
        start.wait()
        try:
            with transaction(database.sessions) as session:
                lead = services.create_lead(session, source="manual", name=f"Lead {n}")
                customer = services.find_or_create_customer(session, "same@x.dk", "Same")
                services.link_lead_to_customer(session, lead.id, customer.id)
        except Exception as exc:  # reported by the assertion below
            return repr(exc)
        return None

    with ThreadPoolExecutor(THREADS) as pool:
        errors = [error for error in pool.map(link, range(THREADS)) if error]

    assert errors == []
    with database.sessions() as session:
        customer = session.query(Customer).one()
        assert customer.total_leads == THREADS


def test_concurrent_bookings_for_one_customer_all_count(database: Database) -> None:
    """A booking's foreign key locks its customer too: the same pattern as a link."""
    with transaction(database.sessions) as session:
        customer_id = services.find_or_create_customer(session, "booked@x.dk", "Booked").id
    start = threading.Barrier(THREADS)

    def book(n: int) -> str | None:
        start.wait()
        try:
            with transaction(database.sessions) as session:
                services.create_booking(
                    session,
                    customer_id=customer_id,
                    scheduled_at=datetime(2026, 1, 1 + n, 9, tzinfo=UTC),
                )
        except Exception as exc:  # reported by the assertion below
            return repr(exc)
        return None

    with ThreadPoolExecutor(THREADS) as pool:
        errors = [error for error in pool.map(book, range(THREADS)) if error]

    assert errors == []
    with database.sessions() as session:
        assert session.get(Customer, customer_id).total_bookings == THREADS  # type: ignore[union-attr]
