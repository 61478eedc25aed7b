"""Reading mail in the CRM: `crm conversation list|show|close|reopen|archive`."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_core import services
from tests.cli.conftest import Cli, table_row
from tests.cli.office import conversation_of, demo


def test_list_is_limited_newest_first_and_says_how_many(cli: Cli) -> None:
    demo(cli)
    out = cli("conversation", "list", "--limit", "3")
    assert out.splitlines()[-1] == "Showing 3 of 16 conversations (--limit to see more)"
    first = table_row(out, "18.11.2025")
    assert first[1:5] == ["Peter Kjær", "Nyt lead: Rengøring Aarhus", "active", "3"]

    out = cli("conversation", "list", "--customer", "ANNA.JENSEN84@gmail.com")
    assert out.splitlines()[-1] == "Total: 3 conversations"
    assert "Tilbud på flytterengøring – 3.450 kr" in out
    since = cli.json("conversation", "list", "--since", "01.11.2025")
    # Mads, Louise, Birgitte, Anna's thanks; the check-ups to Julie, Karina and Henrik
    # and Peter's complaint moved theirs into November.
    assert since["total"] == 8
    assert "Error: --since: not a date" in cli.fails("conversation", "list", "--since", "soon")
    assert "unknown status 'open'" in cli.fails("conversation", "list", "--status", "open")


def test_show_reads_every_message_oldest_first(cli: Cli) -> None:
    demo(cli)
    quote = conversation_of(cli, "anna.jensen84@gmail.com", "Tilbud")
    out = cli("conversation", "show", quote["id"])
    lines = out.splitlines()
    assert lines[0] == "Conversation: Tilbud på flytterengøring – 3.450 kr"
    assert "Customer:     Anna Jensen <anna.jensen84@gmail.com>" in lines
    headers = [line for line in lines if line.startswith("#")]
    assert [h.split(" · ")[0] for h in headers] == ["#1  outbound", "#2  inbound", "#3  outbound"]
    times = [datetime.strptime(h.split(" · ")[1], "%d.%m.%Y %H:%M:%S") for h in headers]
    assert times == sorted(times)
    first = lines.index(headers[0])
    assert lines[first + 1 : first + 4] == [
        "From:    Rendetalje <info@rendetalje.dk>",
        "To:      Anna Jensen <anna.jensen84@gmail.com>",
        "Subject: Tilbud på flytterengøring – 3.450 kr",
    ]
    assert "Pris: 3.450 kr. inkl. moms" in out
    assert "tilbuddet på 3.450 kr" in out  # Anna's acceptance, body text

    bounced = conversation_of(cli, "soren.madsen@gmial.com", "Nyt lead")
    headers = [
        line for line in cli("conversation", "show", bounced["id"]).splitlines() if line[:1] == "#"
    ]
    assert headers[-1].startswith("#2  outbound") and headers[-1].endswith("BOUNCED")

    karina = conversation_of(cli, "karina.holm@hotmail.dk", "Spørgsmål")
    shown = cli("conversation", "show", karina["id"])
    assert "Attachment: plantegning.pdf (84 B)" in shown.splitlines()


def test_an_ai_written_reply_shows_its_model(cli: Cli) -> None:
    demo(cli)
    thread = conversation_of(cli, "james.oconnor@outlook.com", "Cleaning quote")
    assert cli.database is not None
    with cli.database.sessions() as session, session.begin():
        services.create_email_message(
            session,
            conversation_id=thread["id"],
            from_address="info@rendetalje.dk",
            to_address="james.oconnor@outlook.com",
            subject="Re: Cleaning quote",
            body="Dear James,\x1b[31m we can come on Friday.",
            direction="outbound",
            is_ai_generated=True,
            ai_model="gpt-4o",
            sent_at=datetime(2025, 10, 24, 8, 0, tzinfo=UTC),
        )
    out = cli("conversation", "show", thread["id"])
    last = [line for line in out.splitlines() if line.startswith("#")][-1]
    assert last == "#4  outbound · 24.10.2025 10:00:00 · AI-written (gpt-4o)"
    assert "Dear James, we can come on Friday." in out  # no escape reaches the terminal
    data = cli.json("conversation", "show", thread["id"])
    assert data["messages"][-1]["ai_model"] == "gpt-4o"
    assert data["messages"][-1]["sent_at"] == "2025-10-24T08:00:00.000000Z"


def test_close_reopen_archive(cli: Cli) -> None:
    demo(cli)
    thread = conversation_of(cli, "henrik@bach-fysio.dk", "Rengøring af klinik")["id"]
    assert cli("conversation", "close", thread).strip() == f"✅ Conversation {thread} is closed."
    assert [
        c["id"] for c in cli.json("conversation", "list", "--status", "closed")["conversations"]
    ] == [thread]
    assert cli.json("conversation", "reopen", thread)["status"] == "active"
    assert cli.json("conversation", "archive", thread)["status"] == "archived"
    assert cli.json("conversation", "list", "--status", "active")["total"] == 15
    assert cli.fails("conversation", "close", "nope") == "Error: conversation not found: nope"
