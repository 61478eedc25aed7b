"""Following a lead to a booking: `crm lead …`, `crm quote list`, `crm booking list|complete`."""

from __future__ import annotations

from tests.cli.conftest import Cli, table_row
from tests.cli.office import demo, lead_of


def test_leads_are_dated_by_their_email_and_filtered(cli: Cli) -> None:
    demo(cli)
    out = cli("lead", "list")
    assert out.splitlines()[-1] == "Total: 9 leads"
    assert table_row(out, "29.09.2025")[1:5] == [
        "rengoring.nu",
        "Anna Jensen",
        "Anna Jensen",
        "contacted",  # our reply went out in the lead's thread
    ]
    assert table_row(out, "12.11.2025")[1:5] == ["website", "Mads Nielsen", "Mads Nielsen", "new"]
    assert cli.json("lead", "list", "--source", "leadpoint")["total"] == 2
    november = cli.json("lead", "list", "--since", "01.11.2025")["leads"]
    assert [lead["name"] for lead in november] == ["Mads Nielsen", "Louise Winther"]
    assert cli.json("lead", "list", "--status", "new")["total"] == 1
    assert cli("lead", "list", "--limit", "2").splitlines()[-1] == (
        "Showing 2 of 9 leads (--limit to see more)"
    )
    assert cli.json("lead", "list", "--unlinked")["total"] == 0


def test_lead_show_update_and_unlink(cli: Cli) -> None:
    demo(cli)
    anna = lead_of(cli, "Anna Jensen")
    out = cli("lead", "show", anna["id"])
    assert "Date:         29.09.2025 11:14:03" in out
    assert "Phone:        +4512345678" in out
    assert "The email it came from" in out
    assert "From:    Rengøring.nu via Leadmail <noreply@leadmail.no>" in out
    assert "Navn: Anna Jensen" in out

    assert cli("lead", "update", anna["id"], "--status", "lost").strip() == (
        f"✅ Lead {anna['id']} is lost."
    )
    assert "unknown status 'maybe'" in cli.fails("lead", "update", anna["id"], "--status", "maybe")

    out = cli("lead", "unlink", anna["id"])
    assert out.splitlines() == [
        f"✅ Lead {anna['id']} unlinked from Anna Jensen.",
        "Anna Jensen now has 0 leads.",
    ]
    assert [lead["id"] for lead in cli.json("lead", "list", "--unlinked")["leads"]] == [anna["id"]]
    # Her conversations stay with her: the mail is still hers.
    assert cli.json("conversation", "list", "--customer", "anna.jensen84@gmail.com")["total"] == 3


def test_relinking_a_lead_moves_its_conversation(cli: Cli) -> None:
    demo(cli)
    soren = lead_of(cli, "Søren Madsen")
    right = cli.create("Søren Madsen", "soren.madsen@gmail.com")
    cli("customer", "link-lead", soren["id"], right)
    moved = cli.json("conversation", "list", "--customer", "soren.madsen@gmail.com")
    assert [c["subject"] for c in moved["conversations"]] == ["Nyt lead fra Rengøring.nu"]
    assert cli.json("conversation", "list", "--customer", "soren.madsen@gmial.com")["total"] == 0
    customer = cli.json("customer", "get", right)
    assert customer["total_leads"] == 1
    assert customer["last_contact_at"] is not None


def test_quote_to_booking_moves_the_lead_and_the_figures(cli: Cli) -> None:
    demo(cli)
    anna = lead_of(cli, "Anna Jensen")
    quote = cli.json("quote", "create", "--lead", anna["id"], "--total", "3450.50")["id"]
    cli("quote", "send", quote)
    assert cli.json("lead", "show", anna["id"])["status"] == "quoted"
    out = cli("quote", "accept", quote)
    assert out.splitlines() == [
        f"✅ Quote {quote} is accepted (3.450,50 kr).",
        "Anna Jensen: 0 bookings, 3.450,50 kr revenue",
    ]
    booking = cli.json("booking", "create", "--quote", quote, "--at", "31.10.2025 08:00")["id"]
    assert cli.json("lead", "show", anna["id"])["status"] == "won"
    assert table_row(cli("customer", "list"), "Anna Jensen")[2:] == ["1", "1", "3.450,50 kr"]

    error = cli.fails("booking", "create", "--quote", quote, "--at", "01.11.2025 08:00")
    assert error == (
        f"Error: quote {quote} is booked already (booking {booking}); cancel that booking, "
        "or book a second one on purpose (--allow-second)"
    )
    cli("booking", "create", "--quote", quote, "--at", "01.11.2025 08:00", "--allow-second")

    october = cli("booking", "list", "--from", "01.10.2025", "--to", "01.11.2025")
    assert october.splitlines()[-1] == "Total: 1 booking"
    assert table_row(october, "31.10.2025 08:00")[1:3] == ["Anna Jensen", "scheduled"]
    assert cli.json("booking", "list")["total"] == 2

    assert cli("booking", "complete", booking).strip() == (
        f"✅ Booking {booking} completed (31.10.2025 08:00:00)."
    )
    assert cli.fails("booking", "cancel", booking) == (
        f"Error: booking {booking} is completed and cannot be cancelled"
    )
    assert cli.fails("quote", "reject", quote) == (
        f"Error: quote {quote} is accepted and cannot be rejected"
    )
    quotes = cli("quote", "list")
    assert table_row(quotes, quotes.splitlines()[3][:10])[1:4] == [
        "Anna Jensen",
        "3.450,50 kr",
        "accepted",
    ]


def test_quotes_and_bookings_by_customer_email(cli: Cli) -> None:
    demo(cli)
    quote = cli.json("quote", "create", "--customer", "Mette.Hansen@gmail.com", "--total", "650")
    mette = cli.json("customer", "get", "mette.hansen@gmail.com")["id"]
    assert quote["customer_id"] == mette
    cli("booking", "create", "--customer", "mette.hansen@gmail.com", "--at", "2025-11-10T09:00")
    assert cli.json("customer", "get", mette)["total_bookings"] == 1
    assert cli.json("quote", "list", "--customer", "mette.hansen@gmail.com")["total"] == 1
    assert cli.fails("quote", "create", "--customer", "nobody@example.com", "--total", "1") == (
        "Error: customer not found: nobody@example.com"
    )


def test_a_rejected_quote_loses_the_lead(cli: Cli) -> None:
    demo(cli)
    karina = lead_of(cli, "Karina Holm")
    first = cli.json("quote", "create", "--lead", karina["id"], "--total", "2100")["id"]
    second = cli.json("quote", "create", "--lead", karina["id"], "--total", "1800")["id"]
    cli("quote", "send", first)
    cli("quote", "reject", first)
    assert cli.json("lead", "show", karina["id"])["status"] == "quoted"  # the second is alive
    cli("quote", "reject", second)
    assert cli.json("lead", "show", karina["id"])["status"] == "lost"
    assert cli.json("quote", "list", "--status", "rejected")["total"] == 2
