"""`crm customer …` as a user sees it, on PostgreSQL and SQLite."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from crm_core import services
from tests.cli.conftest import Cli, danish, table_row

RULE = "━" * 50
DANISH_TIME = re.compile(r"^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$")


def _sell(cli: Cli, customer_id: str, total: str, bookings: int = 1) -> None:
    """A lead linked to the customer, an accepted quote and ``bookings`` bookings."""
    lead = cli.json("lead", "create", "--source", "website", "--name", "Lead")["id"]
    cli("customer", "link-lead", lead, customer_id)
    quote = cli.json("quote", "create", "--lead", lead, "--total", total)["id"]
    cli("quote", "accept", quote)
    for index in range(bookings):
        second = ["--allow-second"] if index else []
        cli("booking", "create", "--quote", quote, "--at", "2025-10-01T09:00", *second)


def test_create_prints_the_block_of_the_specification(cli: Cli) -> None:
    out = cli("customer", "create", "John Doe", "john@example.com", "+45 12345678")
    lines = out.splitlines()
    assert lines[0] == "✅ Customer created successfully!"
    assert lines[1] == RULE and lines[-1] == RULE
    fields = dict(re.split(r":\s+", line, maxsplit=1) for line in lines[2:-1])
    assert list(fields) == ["ID", "Name", "Email", "Phone", "Status", "Created"]
    assert fields["Name"] == "John Doe"
    assert fields["Email"] == "john@example.com"
    assert fields["Phone"] == "+45 12345678"
    assert fields["Status"] == "active"
    assert DANISH_TIME.match(fields["Created"])
    assert re.match(r"^ID:      \w{25}$", lines[2])

    shown = cli.json("customer", "get", fields["ID"])
    assert fields["Created"] == danish(shown["created_at"])


def test_create_with_options_and_json(cli: Cli) -> None:
    data = cli.json(
        "customer", "create", "ACME ApS", "Info@Acme.DK",
        "--tag", "VIP", "--tag", "enterprise", "--company", "ACME", "--address", "Vej 1",
        "--notes", "Key under the mat",
    )  # fmt: skip
    assert data["email"] == "Info@Acme.DK"
    assert data["tags"] == ["vip", "enterprise"]
    assert data["company_name"] == "ACME"
    assert data["address"] == "Vej 1"
    assert data["notes"] == "Key under the mat"
    assert data["total_revenue"] == "0.00"
    assert data["last_contact_at"] is None
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$", data["created_at"])
    assert "email_normalized" not in data


def test_duplicate_email_is_one_error_line(cli: Cli) -> None:
    cli.create("John Doe", "john@example.com")
    error = cli.fails("customer", "create", "Other John", "JOHN@example.com")
    assert error == "Error: a customer with email john@example.com already exists"
    assert len(cli.json("customer", "list")) == 1


def test_malformed_email_and_empty_name_are_refused(cli: Cli) -> None:
    assert "invalid email address 'not-an-email'" in cli.fails(
        "customer", "create", "X", "not-an-email"
    )
    assert "name must not be empty" in cli.fails("customer", "create", "   ")


def test_list_shows_the_table_with_figures_and_total(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    jane = cli.create("Jane Smith", "jane@company.com")
    _sell(cli, john, "3000", bookings=2)
    _sell(cli, john, "2000", bookings=0)
    _sell(cli, jane, "2500")
    cli.create("Gone", "gone@example.com")
    cli("customer", "delete", cli.json("customer", "get", "gone@example.com")["id"])

    out = cli("customer", "list")
    lines = out.splitlines()
    assert lines[0].startswith(RULE)
    assert re.split(r"\s+", lines[1].strip()) == ["Name", "Email", "Leads", "Bookings", "Revenue"]
    assert lines[1].index("Email") == 26 and lines[1].index("Leads") == 57
    assert table_row(out, "John Doe") == ["John Doe", "john@example.com", "2", "2", "5.000 kr"]
    assert table_row(out, "Jane Smith") == ["Jane Smith", "jane@company.com", "1", "1", "2.500 kr"]
    assert "Gone" not in out
    assert lines[-1] == "Total: 2 customers"

    inactive = cli("customer", "list", "inactive")
    assert table_row(inactive, "Gone")[0] == "Gone"
    assert inactive.splitlines()[-1] == "Total: 1 customer"


def test_list_filters_by_tags_all_or_any_and_limits(cli: Cli) -> None:
    cli.create("Both", "both@example.com", "--tag", "vip", "--tag", "recurring")
    cli.create("Vip", "vip@example.com", "--tag", "vip")
    cli.create("None", "none@example.com")

    def names(*args: str) -> set[str]:
        return {c["name"] for c in cli.json("customer", "list", *args)}

    assert names("--tag", "VIP") == {"Both", "Vip"}
    assert names("--tag", "vip", "--tag", "recurring") == {"Both"}
    assert names("--tag", "vip", "--tag", "recurring", "--any-tag") == {"Both", "Vip"}
    assert len(cli.json("customer", "list", "--limit", "2")) == 2
    assert cli("customer", "list", "blocked").splitlines()[-1] == "Total: 0 customers"


def test_list_unknown_status_is_one_error_line(cli: Cli) -> None:
    error = cli.fails("customer", "list", "bogus")
    assert error == "Error: unknown status 'bogus'; expected one of: active, inactive, blocked"


def test_amounts_with_oere(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    _sell(cli, john, "3450.5")
    assert table_row(cli("customer", "list"), "John Doe")[-1] == "3.450,50 kr"
    assert cli.json("customer", "get", john)["total_revenue"] == "3450.50"


def test_get_by_email_any_case_shows_everything(cli: Cli) -> None:
    john = cli.create("John Doe", "John@Example.com", "+45 12345678", "--tag", "vip")
    _sell(cli, john, "5000")
    assert cli.database is not None
    when = datetime(2025, 9, 30, 14, 30, tzinfo=UTC)
    with cli.database.sessions.begin() as session:
        conversation = services.create_conversation(
            session, customer_id=john, subject="Tilbud på rengøring"
        )
        for index, direction in enumerate(["inbound", "outbound", "inbound"]):
            services.create_email_message(
                session,
                conversation_id=conversation.id,
                from_address="john@example.com",
                to_address="info@rendetalje.dk",
                body="Hej",
                direction=direction,
                sent_at=when + timedelta(minutes=index),
            )

    out = cli("customer", "get", "JOHN@EXAMPLE.COM")
    assert out.splitlines()[0] == "Customer: John Doe"
    assert f"ID:      {john}" in out
    assert "Tags:    vip" in out
    assert "Revenue:      5.000 kr" in out
    assert "Bookings:     1" in out
    assert "Last contact: 30.09.2025 16:32:00" in out  # 14:32 UTC is 16:32 in Copenhagen
    assert "Leads (1)" in out and "website" in out
    assert "Conversations (1)" in out
    assert table_row(out, "Tilbud på rengøring")[:5] == [
        "Tilbud på rengøring", "active", "email", "3", "30.09.2025 16:32:00",
    ]  # fmt: skip

    data = cli.json("customer", "get", john)
    assert data["last_contact_at"] == "2025-09-30T14:32:00.000000Z"
    assert [lead["source"] for lead in data["leads"]] == ["website"]
    assert data["conversations"][0]["message_count"] == 3
    assert data["conversations"][0]["subject"] == "Tilbud på rengøring"

    table = cli("customer", "conversations", john)
    assert table_row(table, "Tilbud på rengøring")[1:4] == ["active", "email", "3"]
    assert table.splitlines()[-1] == "Total: 1 conversation"
    assert cli.json("customer", "conversations", john)[0]["channel"] == "email"


def test_get_missing_customer_is_one_error_line(cli: Cli) -> None:
    assert cli.fails("customer", "get", "nobody@example.com") == (
        "Error: customer not found: nobody@example.com"
    )
    assert cli.fails("customer", "get", "noid") == "Error: customer not found: noid"
    assert cli.fails("customer", "conversations", "noid") == "Error: customer not found: noid"


def test_update_fields_tags_and_status(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com", "+45 12345678", "--tag", "old")
    out = cli("customer", "update", john, "--phone", "+45 87654321", "--tag", "premium")
    assert out.splitlines()[0] == "✅ Customer updated."
    assert "Phone:   +45 87654321" in out and "Tags:    premium" in out

    data = cli.json("customer", "update", john, "--status", "blocked", "--company", "ACME")
    assert (data["status"], data["company_name"], data["tags"]) == ("blocked", "ACME", ["premium"])
    assert cli.json("customer", "update", john, "--clear-tags", "--phone", "")["tags"] == []
    assert cli.json("customer", "get", john)["phone"] is None


def test_update_errors(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    cli.create("Jane", "jane@example.com")
    assert "already exists" in cli.fails("customer", "update", john, "--email", "JANE@example.com")
    assert "unknown status 'gone'" in cli.fails("customer", "update", john, "--status", "gone")
    assert "nothing to update" in cli.fails("customer", "update", john)
    assert "not both" in cli.fails("customer", "update", john, "--tag", "a", "--clear-tags")
    assert "customer not found" in cli.fails("customer", "update", "nope", "--name", "X")
    assert cli.json("customer", "get", john)["email"] == "john@example.com"


def test_delete_is_soft(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    out = cli("customer", "delete", john)
    assert "is now inactive" in out and "nothing was removed" in out
    assert cli.json("customer", "get", john)["status"] == "inactive"
    assert cli.fails("customer", "delete", "nope") == "Error: customer not found: nope"


def test_stats_for_one_and_for_all_repair_drift(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    jane = cli.create("Jane", "jane@example.com")
    _sell(cli, john, "1200")
    assert cli.database is not None
    with cli.database.engine.begin() as connection:
        connection.execute(text("UPDATE customers SET total_leads = 99, total_revenue = 1"))

    out = cli("customer", "stats", john)
    assert out.splitlines()[0] == "✅ Stats updated for John Doe"
    assert "Leads:        1" in out and "Revenue:      1.200 kr" in out
    assert "Last contact: never" in out
    assert cli.json("customer", "get", jane)["total_leads"] == 99

    assert cli("customer", "stats", "--all").strip() == "✅ Stats recomputed for 2 customers."
    assert cli.json("customer", "get", jane)["total_leads"] == 0
    assert cli.json("customer", "stats", john)["total_revenue"] == "1200.00"
    assert cli.fails("customer", "stats") == "Error: give a customer ID or --all"
    assert cli.fails("customer", "stats", "nope") == "Error: customer not found: nope"


def test_link_lead_moves_the_lead_and_its_figures(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    jane = cli.create("Jane", "jane@example.com")
    lead = cli.json("lead", "create", "--name", "Lead")["id"]
    out = cli("customer", "link-lead", lead, john)
    assert out.splitlines()[0] == f"✅ Lead {lead} linked to John Doe"
    assert "Leads:        1" in out
    cli("customer", "link-lead", lead, jane)
    assert cli.json("customer", "get", john)["total_leads"] == 0
    assert cli.json("customer", "get", jane)["total_leads"] == 1
    assert cli.fails("customer", "link-lead", "nolead", john) == "Error: lead not found: nolead"
    assert "customer not found" in cli.fails("customer", "link-lead", lead, "nocustomer")
