"""`crm lead|quote|booking …` and `crm report …`, on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm_core import services
from tests.cli.conftest import Cli, table_row


def test_quote_workflow_and_conflicts(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    quote = cli.json("quote", "create", "--customer", john, "--total", "5000")
    assert (quote["status"], quote["total"]) == ("draft", "5000.00")

    out = cli("quote", "send", quote["id"])
    assert out.splitlines()[0] == f"✅ Quote {quote['id']} is sent (5.000 kr)."
    out = cli("quote", "accept", quote["id"])
    assert out.splitlines() == [
        f"✅ Quote {quote['id']} is accepted (5.000 kr).",
        "John Doe: 0 bookings, 5.000 kr revenue",
    ]
    assert cli.fails("quote", "reject", quote["id"]) == (
        f"Error: quote {quote['id']} is accepted and cannot be rejected"
    )
    other = cli.json("quote", "create", "--customer", john, "--total", "100")["id"]
    assert cli.json("quote", "reject", other)["status"] == "rejected"
    assert cli.json("customer", "get", john)["total_revenue"] == "5000.00"


def test_quote_input_errors(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    assert cli.fails("quote", "create", "--total", "10") == (
        "Error: a quote needs a lead or a customer"
    )
    assert "not a number" in cli.fails("quote", "create", "--customer", john, "--total", "lots")
    assert "zero or more" in cli.fails("quote", "create", "--customer", john, "--total", "-5")
    assert cli.fails("quote", "accept", "nope") == "Error: quote not found: nope"


def test_lead_for_an_unlinked_quote_counts_once_linked(cli: Cli) -> None:
    lead = cli.json("lead", "create", "--source", "rengoering.nu", "--email", "a@example.com")
    assert (lead["source"], lead["status"], lead["customer_id"]) == (
        "rengoering.nu",
        "new",
        None,
    )
    quote = cli.json("quote", "create", "--lead", lead["id"], "--total", "800")["id"]
    out = cli("quote", "accept", quote)
    assert "Not linked to a customer yet" in out
    customer = cli.create("A", "a@example.com")
    cli("customer", "link-lead", lead["id"], customer)
    assert cli.json("customer", "get", customer)["total_revenue"] == "800.00"


def test_lead_create_with_link_finds_or_creates_the_customer(cli: Cli) -> None:
    out = cli("lead", "create", "--name", "Jane Smith", "--email", "Jane@Company.com", "--link")
    assert out.splitlines()[0] == "✅ Lead created."
    assert "Customer: Jane Smith (" in out
    customer = cli.json("customer", "get", "jane@company.com")
    assert customer["total_leads"] == 1
    again = cli.json("lead", "create", "--email", "jane@company.com", "--link")
    assert again["customer_id"] == customer["id"]
    assert cli.json("customer", "get", customer["id"])["total_leads"] == 2
    assert "invalid email address" in cli.fails("lead", "create", "--email", "nope")
    assert cli.fails("lead", "create", "--link") == "Error: --link needs --email"


def test_booking_create_and_cancel(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    out = cli("booking", "create", "--customer", john, "--at", "01.10.2025 09:00")
    assert "Scheduled: 01.10.2025 09:00:00" in out
    assert out.splitlines()[-1] == "John Doe: 1 booking, 0 kr revenue"
    booking = cli.json("booking", "create", "--customer", john, "--at", "2025-10-01T09:00+00:00")
    assert booking["scheduled_at"] == "2025-10-01T09:00:00.000000Z"
    assert cli.json("customer", "get", john)["total_bookings"] == 2

    out = cli("booking", "cancel", booking["id"])
    assert out.splitlines() == [
        f"✅ Booking {booking['id']} cancelled.",
        "John Doe: 1 booking, 0 kr revenue",
    ]
    assert cli.json("booking", "cancel", booking["id"])["status"] == "cancelled"
    assert "not a date and time" in cli.fails(
        "booking", "create", "--customer", john, "--at", "tomorrow"
    )
    assert "needs a customer, a lead or a quote" in cli.fails(
        "booking", "create", "--at", "2025-10-01T09:00"
    )
    assert cli.fails("booking", "cancel", "nope") == "Error: booking not found: nope"


def test_booking_from_a_quote_in_winter_time(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    quote = cli.json("quote", "create", "--customer", john, "--total", "1500")["id"]
    cli("quote", "accept", quote)
    booking = cli.json("booking", "create", "--quote", quote, "--at", "2025-12-01T09:00")
    assert booking["customer_id"] == john
    assert booking["scheduled_at"] == "2025-12-01T08:00:00.000000Z"  # CET is UTC+1


def test_report_top_customers(cli: Cli) -> None:
    for name, total in [("Small", "500"), ("Big", "9000"), ("Mid", "2500.75")]:
        customer = cli.create(name, f"{name.lower()}@example.com")
        quote = cli.json("quote", "create", "--customer", customer, "--total", total)["id"]
        cli("quote", "accept", quote)

    out = cli("report", "top-customers", "--limit", "2")
    lines = out.splitlines()
    assert lines[0] == "Top 2 customers by revenue"
    rows = [line.split() for line in lines if line[:1].isdigit()]
    assert [(row[0], row[1], row[-2] + " " + row[-1]) for row in rows] == [
        ("1", "Big", "9.000 kr"),
        ("2", "Mid", "2.500,75 kr"),
    ]
    assert [c["name"] for c in cli.json("report", "top-customers")] == ["Big", "Mid", "Small"]


def test_report_response_ratio_and_ai_emails(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    assert cli.database is not None
    start = datetime(2025, 9, 30, 10, 0, tzinfo=UTC)
    with cli.database.sessions.begin() as session:
        busy = services.create_conversation(session, customer_id=john, subject="Flytterengøring")
        quiet = services.create_conversation(session, subject="Uden kunde")
        plan = [
            (busy.id, "inbound", None),
            (busy.id, "outbound", "gemini-1.5-pro"),
            (busy.id, "inbound", None),
            (busy.id, "outbound", "gemini-1.5-pro"),
            (busy.id, "outbound", ""),
            (quiet.id, "outbound", "gpt-4o"),
        ]
        for minute, (conversation_id, direction, model) in enumerate(plan):
            services.create_email_message(
                session,
                conversation_id=conversation_id,
                from_address="info@rendetalje.dk",
                to_address="john@example.com",
                body="Tak for din henvendelse",
                direction=direction,
                is_ai_generated=model is not None,
                ai_model=model or None,
                sent_at=start + timedelta(minutes=minute),
            )

    out = cli("report", "response-ratio")
    assert table_row(out, "Flytterengøring") == ["Flytterengøring", "John Doe", "3/2"]
    assert table_row(out, "Uden kunde") == ["Uden kunde", "-", "1/0"]
    assert out.splitlines()[-1] == "Total: 2 conversations"
    mine = cli.json("report", "response-ratio", "--customer", john)
    assert mine == [
        {
            "conversation_id": busy.id,
            "subject": "Flytterengøring",
            "customer_id": john,
            "customer_name": "John Doe",
            "outbound": 3,
            "inbound": 2,
            "ratio": 1.5,
        }
    ]
    assert cli.fails("report", "response-ratio", "--customer", "nope") == (
        "Error: customer not found: nope"
    )

    assert cli.json("report", "ai-emails") == [
        {"model": "gemini-1.5-pro", "count": 2},
        {"model": "gpt-4o", "count": 1},
        {"model": "unknown", "count": 1},
    ]
    out = cli("report", "ai-emails")
    assert out.splitlines()[-1] == "Total: 4 AI-generated emails"
    assert table_row(out, "gemini-1.5-pro") == ["gemini-1.5-pro", "2"]
