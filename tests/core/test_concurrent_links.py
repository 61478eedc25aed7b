"""Linking leads to one customer from many transactions at once never deadlocks.

Each thread does what ``crm lead create --email same@x.dk --link`` does: create a lead,
find or create the customer, link the lead, in one transaction.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

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
