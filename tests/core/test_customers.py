"""Customers: creation, case-insensitive email, tags, search and soft delete."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.errors import ConflictError, InvalidEmailError, InvalidStatusError, NotFoundError
from crm_core.statuses import CustomerStatus


def test_create_and_get_customer(session: Session) -> None:
    created = services.create_customer(
        session,
        name="  John   Doe ",
        email="john@example.com",
        phone="+45 12345678",
        tags=["vip", "enterprise"],
    )
    session.commit()

    found = services.get_customer_by_id(session, created.id)
    assert found is not None
    assert found.name == "John Doe"
    assert found.email == "john@example.com"
    assert found.status == CustomerStatus.ACTIVE
    assert found.tags == ["vip", "enterprise"]
    assert (found.total_leads, found.total_bookings, found.total_revenue) == (0, 0, 0)
    assert found.created_at.tzinfo is not None


def test_email_is_unique_ignoring_case(session: Session) -> None:
    services.create_customer(session, name="John", email="John.Doe@Example.com")
    session.commit()

    with pytest.raises(ConflictError, match=r"john\.doe@example\.com"):
        services.create_customer(session, name="Other John", email="john.doe@example.com")
    # The failed insert must not poison the transaction.
    assert services.get_customer_by_email(session, "JOHN.DOE@EXAMPLE.COM") is not None
    found = services.get_customer_by_email(session, "john.doe@example.com")
    assert found is not None and found.email == "John.Doe@Example.com"


def test_malformed_email_is_refused(session: Session) -> None:
    with pytest.raises(InvalidEmailError, match="not-an-email"):
        services.create_customer(session, name="X", email="not-an-email")
    with pytest.raises(InvalidEmailError):
        services.find_or_create_customer(session, "a@@b.dk")


def test_tags_are_trimmed_lowercased_and_deduplicated(session: Session) -> None:
    customer = services.create_customer(session, name="A", tags=[" VIP", "vip ", "Recurring", ""])
    assert customer.tags == ["vip", "recurring"]
    services.update_customer(session, customer.id, tags=["Premium", "premium"])
    session.commit()
    assert services.get_customer_by_id(session, customer.id).tags == ["premium"]  # type: ignore[union-attr]


def test_query_by_tags_all_and_any(session: Session) -> None:
    both = services.create_customer(session, name="Both", tags=["vip", "enterprise"])
    vip = services.create_customer(session, name="Vip", tags=["vip"])
    services.create_customer(session, name="None", tags=["recurring"])
    # A tag that merely contains another must not match.
    services.create_customer(session, name="Vipper", tags=["vipper"])
    session.commit()

    def names(customers: list) -> set[str]:  # type: ignore[type-arg]
        return {c.name for c in customers}

    assert names(services.query_customers(session, tags=["VIP"])) == {"Both", "Vip"}
    assert names(services.query_customers(session, tags=["vip", "enterprise"])) == {"Both"}
    assert names(services.query_customers(session, tags=["enterprise", "vip"], match="any")) == {
        "Both",
        "Vip",
    }
    assert services.query_customers(session, tags=["nothing"]) == []
    assert {c.id for c in services.query_customers(session, tags=["vip"])} == {both.id, vip.id}


def test_query_by_status_and_email(session: Session) -> None:
    active = services.create_customer(session, name="Active", email="a@example.com")
    gone = services.create_customer(session, name="Gone", email="g@example.com")
    services.delete_customer(session, gone.id)
    session.commit()

    assert [c.id for c in services.query_customers(session, status="active")] == [active.id]
    assert [c.id for c in services.query_customers(session, status="inactive")] == [gone.id]
    assert [c.id for c in services.query_customers(session, email="A@Example.com")] == [active.id]
    with pytest.raises(InvalidStatusError, match=r"expected one of: active, inactive, blocked"):
        services.query_customers(session, status="deleted")


def test_delete_is_soft(session: Session) -> None:
    customer = services.create_customer(session, name="Soon gone", email="gone@example.com")
    assert services.delete_customer(session, customer.id) is True
    session.commit()
    stored = services.get_customer_by_email(session, "gone@example.com")
    assert stored is not None and stored.status == CustomerStatus.INACTIVE


def test_update_customer(session: Session) -> None:
    customer = services.create_customer(session, name="John", email="john@example.com")
    other = services.create_customer(session, name="Jane", email="jane@example.com")
    services.update_customer(session, customer.id, phone="+45 87654321", status="blocked")
    session.commit()
    stored = services.get_customer_by_id(session, customer.id)
    assert stored is not None
    assert (stored.phone, stored.status) == ("+45 87654321", CustomerStatus.BLOCKED)

    with pytest.raises(ConflictError, match=r"john@example\.com already exists"):
        services.update_customer(session, other.id, email="JOHN@example.com", name="Janet")
    # Only the failed update was undone; the transaction goes on.
    session.commit()
    unchanged = services.get_customer_by_id(session, other.id)
    assert unchanged is not None and (unchanged.name, unchanged.email) == (
        "Jane",
        "jane@example.com",
    )
    with pytest.raises(InvalidStatusError):
        services.update_customer(session, customer.id, status="archived")
    with pytest.raises(NotFoundError, match="customer not found: nope"):
        services.update_customer(session, "nope", name="x")


def test_find_or_create_returns_the_same_customer_in_any_case(session: Session) -> None:
    first = services.find_or_create_customer(session, "Mette.Hansen@Gmail.com", "Mette Hansen")
    again = services.find_or_create_customer(session, "mette.hansen@gmail.com")
    session.commit()
    assert again.id == first.id
    assert again.name == "Mette Hansen"
    assert len(services.query_customers(session)) == 1


def test_find_or_create_upgrades_a_placeholder_name(session: Session) -> None:
    placeholder = services.find_or_create_customer(session, "anna@example.dk")
    assert placeholder.name == "anna"
    named = services.find_or_create_customer(session, "ANNA@example.dk", "Anna Jensen")
    assert named.id == placeholder.id and named.name == "Anna Jensen"
    # A real name is never overwritten by a later one.
    again = services.find_or_create_customer(session, "anna@example.dk", "A. J.")
    assert again.name == "Anna Jensen"


def test_placeholder_is_a_readable_form_of_the_address(session: Session) -> None:
    guessed = services.find_or_create_customer(session, "soren.odegaard@gmail.com")
    assert guessed.name == "Soren Odegaard"
    assert services.find_or_create_customer(session, "bo_1984@x.dk").name == "bo_1984"
    assert services.find_or_create_customer(session, "info@firma.dk").name == "info"
    # The guess is still a placeholder: the first real name replaces it.
    named = services.find_or_create_customer(session, "soren.odegaard@gmail.com", "Søren Ødegaard")
    assert named.id == guessed.id and named.name == "Søren Ødegaard"


def test_get_customer_with_relations(session: Session) -> None:
    customer = services.create_customer(session, name="John", email="john@example.com")
    lead = services.create_lead(session, source="rengoring.nu", name="John")
    services.link_lead_to_customer(session, lead.id, customer.id)
    services.create_conversation(session, customer_id=customer.id, subject="Hej")
    session.commit()
    session.expunge_all()

    loaded = services.get_customer_by_id(session, customer.id, include_relations=True)
    assert loaded is not None
    assert [lead.id for lead in loaded.leads] == [lead.id]
    assert [c.subject for c in loaded.conversations] == ["Hej"]
