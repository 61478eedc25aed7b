"""Customers are found by tag whoever wrote the tags: customer_tags stays in step with
customers.tags through every way a tag is written, on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text

from crm_core import services
from crm_core.customers.bulk_changes import add_tags, remove_tags
from crm_core.customers.filters import CustomerFilter
from crm_core.models import Customer, CustomerTag
from tests.cli.conftest import Cli
from tests.conftest import Database


def found(cli: Cli, *tags: str, any_tag: bool = False) -> set[str]:
    """The addresses `crm customer list --tag …` shows."""
    options = [part for tag in tags for part in ("--tag", tag)]
    listed = cli.json("customer", "list", *options, *(["--any-tag"] if any_tag else []), "--json")
    return {str(customer["email"]) for customer in listed}


def assert_in_step(database: Database) -> None:
    """customer_tags holds exactly the (tag, customer) pairs the customers carry."""
    with database.sessions() as session:
        rows = session.execute(select(CustomerTag.tag, CustomerTag.customer_id))
        held = {(tag, customer_id) for tag, customer_id in rows}
        carried = {
            (tag, customer.id)
            for customer in session.scalars(select(Customer))
            for tag in customer.tags or []
        }
    assert held == carried


def test_every_writer_keeps_the_tag_index_in_step(cli: Cli, tmp_path: Path) -> None:
    assert cli.database is not None
    database = cli.database
    a = cli.create("Anna", "a@example.dk", "--tag", "vip", "--tag", "erhverv")
    b = cli.create("Bo", "b@example.dk", "--tag", "vip")
    cli.create("Carl", "c@example.dk")
    assert found(cli, "vip") == {"a@example.dk", "b@example.dk"}
    assert found(cli, "vip", "erhverv") == {"a@example.dk"}
    assert found(cli, "erhverv", "nyhed", any_tag=True) == {"a@example.dk"}
    assert_in_step(database)

    # One customer's tags: replaced, edited, untouched by other changes.
    cli("customer", "update", b, "--tag", "privat")
    cli("customer", "update", a, "--add-tag", "nyhed", "--remove-tag", "vip")
    cli("customer", "update", a, "--name", "Anna Berg")
    assert found(cli, "vip") == set()
    assert found(cli, "privat") == {"b@example.dk"}
    assert found(cli, "nyhed") == {"a@example.dk"}
    assert_in_step(database)

    # Bulk changes, with and without a filter.
    assert "to 3 customers" in cli("customer", "bulk", "tag", "add", "kampagne")
    assert "from 1 customer" in cli(
        "customer", "bulk", "tag", "remove", "kampagne", "--tag", "privat"
    )
    assert found(cli, "kampagne") == {"a@example.dk", "c@example.dk"}
    assert_in_step(database)

    # An import creates customers with tags and replaces the tags of one it holds.
    source = tmp_path / "kunder.csv"
    source.write_text(
        'Navn;E-mail;Tags\nDorte;d@example.dk;"vip, kampagne"\nCarl;c@example.dk;vip\n',
        encoding="utf-8",
    )
    assert "1 created, 1 updated" in cli(
        "customer", "import", str(source), "--on-conflict", "update"
    )
    assert found(cli, "vip") == {"c@example.dk", "d@example.dk"}
    assert found(cli, "kampagne") == {"a@example.dk", "d@example.dk"}
    assert_in_step(database)

    # A merge joins the tags; the duplicate is no longer listed.
    cli("customer", "merge", "a@example.dk", "d@example.dk")
    assert found(cli, "vip") == {"a@example.dk", "c@example.dk"}
    assert_in_step(database)

    # An erasure removes the person and their pairs.
    cli("privacy", "erase", "c@example.dk", "--yes")
    assert found(cli, "vip") == {"a@example.dk"}
    assert_in_step(database)


def test_a_bulk_change_watched_by_a_webhook_keeps_the_index_in_step(cli: Cli) -> None:
    """With an endpoint subscribed, the bulk change returns its rows for the events and
    writes the pairs from their ids (PostgreSQL) instead of in the same statement."""
    assert cli.database is not None
    cli("webhook", "add", "https://hooks.example.com/crm", "--events", "customer.updated")
    for key in "abc":
        cli.create(key.upper(), f"{key}@example.dk", *(["--tag", "vip"] if key != "c" else []))
    assert "to 2 customers" in cli("customer", "bulk", "tag", "add", "nyhed", "--tag", "vip")
    assert found(cli, "nyhed") == {"a@example.dk", "b@example.dk"}
    assert "from 2 customers" in cli("customer", "bulk", "tag", "remove", "vip")
    assert found(cli, "vip") == set()
    assert_in_step(cli.database)
    with cli.database.sessions() as session:
        events = session.execute(
            text("SELECT count(*) FROM webhook_events WHERE type = 'customer.updated'")
        ).scalar_one()
    assert events == 4


def test_rows_written_by_hand_are_indexed_too(database: Database) -> None:
    """A writer outside the services (a script, a restore) is met by the triggers."""
    with database.sessions() as session:
        tags = '\'["vip", "hand"]\'' if database.kind == "sqlite" else "ARRAY['vip', 'hand']"
        session.execute(
            text(
                "INSERT INTO customers (id, name, status, tags, total_leads, total_bookings,"
                f" total_revenue, created_at, updated_at) VALUES ('byhand', 'Hand', 'active',"
                f" {tags}, 0, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        session.commit()
        assert [c.id for c in services.query_customers(session, tags=["hand"])] == ["byhand"]
        session.execute(text("DELETE FROM customers WHERE id = 'byhand'"))
        session.commit()
    assert_in_step(database)


def test_a_bulk_change_leaves_later_edits_in_the_same_transaction_indexed(
    database: Database,
) -> None:
    """On PostgreSQL the bulk path turns the update trigger off for its own statement
    only: a single edit after it, in the same transaction, is indexed by the trigger."""
    with database.sessions() as session:
        for n in range(3):
            services.create_customer(session, name=f"K{n}", email=f"k{n}@example.dk", tags=["a"])
        session.commit()
        assert add_tags(session, CustomerFilter(), ["b"]) == {"b": 3}
        one = services.get_customer_by_email(session, "k0@example.dk")
        assert one is not None
        services.update_customer(session, one.id, tags=["c"])
        session.commit()
        assert {c.email for c in services.query_customers(session, tags=["c"])} == {"k0@example.dk"}
        # A bulk change rolled back takes its pairs (and its setting) back with it.
        assert remove_tags(session, CustomerFilter(), ["a"]) == {"a": 2}
        session.rollback()
        services.update_customer(session, one.id, tags=["d"])
        session.commit()
    assert_in_step(database)
