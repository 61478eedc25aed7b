"""`crm customer bulk tag|status` and `crm customer update --add-tag/--remove-tag`."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event

from crm_core import services
from crm_core.customers import touch_last_contact
from crm_core.customers.bulk_changes import add_tags
from crm_core.customers.filters import CustomerFilter
from tests.cli.conftest import Cli
from tests.conftest import Database


def tags_of(cli: Cli, key: str) -> list[str]:
    return list(cli.json("customer", "get", key)["tags"])


def test_bulk_tag_add_and_remove_with_filters(cli: Cli) -> None:
    cli.create("A", "a@example.dk", "--tag", "vip", "--tag", "erhverv")
    cli.create("B", "b@example.dk", "--tag", "vip")
    cli.create("C", "c@example.dk")
    out = cli("customer", "bulk", "tag", "add", "news", "--tag", "vip", "--dry-run")
    assert out.strip() == "✅ Would add tag news to 2 customers"
    assert tags_of(cli, "a@example.dk") == ["vip", "erhverv"]
    out = cli("customer", "bulk", "tag", "add", "News", "Ekstra", "--tag", "vip")
    assert out.splitlines() == [
        "✅ Added tag news to 2 customers",
        "✅ Added tag ekstra to 2 customers",
    ]
    assert tags_of(cli, "a@example.dk") == ["vip", "erhverv", "news", "ekstra"]
    # Only customers that lack the tag change.
    assert "Added tag news to 1 customer" in cli("customer", "bulk", "tag", "add", "news")
    assert tags_of(cli, "c@example.dk") == ["news"]
    out = cli("customer", "bulk", "tag", "remove", "vip", "--tag", "erhverv")
    assert out.strip() == "✅ Removed tag vip from 1 customer"
    assert tags_of(cli, "a@example.dk") == ["erhverv", "news", "ekstra"]
    assert tags_of(cli, "b@example.dk") == ["vip", "news", "ekstra"]
    cli("customer", "bulk", "tag", "remove", "news", "ekstra", "erhverv", "vip")
    assert [tags_of(cli, f"{k}@example.dk") for k in "abc"] == [[], [], []]


def test_bulk_status_with_status_and_range_filters(cli: Cli) -> None:
    a = cli.create("A", "a@example.dk", "--tag", "spam")
    cli.create("B", "b@example.dk", "--tag", "spam")
    cli.create("C", "c@example.dk")
    assert cli.database is not None
    with cli.database.sessions() as session:
        touch_last_contact(session, a, datetime(2025, 3, 1, 12, tzinfo=UTC))
        session.commit()
    out = cli("customer", "bulk", "status", "blocked", "--tag", "spam", "--dry-run")
    assert out.strip() == "✅ Would set status blocked on 2 customers"
    contacted = ["--contacted-since", "01.02.2025", "--contacted-before", "01.04.2025"]
    out = cli("customer", "bulk", "status", "blocked", "--tag", "spam", *contacted)
    assert out.strip() == "✅ Set status blocked on 1 customer"
    assert cli.json("customer", "get", a)["status"] == "blocked"
    assert "on 0 customers" in cli(
        "customer", "bulk", "status", "blocked", "--created-before", "2000-01-01"
    )
    out = cli(
        "customer",
        "bulk",
        "status",
        "inactive",
        "--status",
        "active",
        "--created-since",
        "2000-01-01",
    )
    assert "on 2 customers" in out
    assert cli.json("customer", "get", "c@example.dk")["status"] == "inactive"
    assert "unknown status" in cli.fails("customer", "bulk", "status", "gone")
    assert "empty created range" in cli.fails(
        "customer",
        "bulk",
        "status",
        "active",
        "--created-since",
        "2025-02-01",
        "--created-before",
        "2025-01-01",
    )
    assert "expected add or remove" in cli.fails("customer", "bulk", "tag", "put", "x")


def test_a_bulk_change_is_one_statement_per_tag(database: Database) -> None:
    with database.sessions() as session:
        for n in range(50):
            services.create_customer(session, name=f"K{n}", email=f"k{n}@example.dk", tags=["vip"])
        session.commit()
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.sessions() as session:
            changed = add_tags(session, CustomerFilter(tags=("vip",)), ["news", "ekstra"])
            session.commit()
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert changed == {"news": 50, "ekstra": 50}
    # One UPDATE of the customers per tag (on PostgreSQL it writes the tag index in the
    # same statement), whatever the number of customers.
    assert len([s for s in statements if "UPDATE customers" in s]) == 2
    assert len(statements) <= 12


def test_update_adds_and_removes_tags_keeping_the_others(cli: Cli) -> None:
    a = cli.create("A", "a@example.dk", "--tag", "vip", "--tag", "erhverv")
    cli("customer", "update", a, "--add-tag", "News", "--remove-tag", "vip")
    assert tags_of(cli, a) == ["erhverv", "news"]
    cli("customer", "update", a, "--add-tag", "news", "--name", "Anna")
    assert tags_of(cli, a) == ["erhverv", "news"]
    assert cli.json("customer", "get", a)["name"] == "Anna"
    assert "not both" in cli.fails("customer", "update", a, "--add-tag", "x", "--tag", "y")
    assert "both added and removed" in cli.fails(
        "customer", "update", a, "--add-tag", "x", "--remove-tag", "X"
    )
