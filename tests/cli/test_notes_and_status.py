"""Dated notes (`crm note add`), and what a customer's status means for new mail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from crm_core import services
from tests.cli.conftest import Cli
from tests.cli.office import conversation_of, demo, lead_of, new_mail


def test_notes_are_dated_appended_and_shown(cli: Cli) -> None:
    demo(cli)
    anna = cli.json("customer", "get", "anna.jensen84@gmail.com")["id"]
    out = cli("note", "add", "customer", anna, "Nøglen ligger hos naboen")
    assert out.startswith(f"✅ Note added to customer {anna} (")
    cli("note", "add", "customer", "Anna.Jensen84@gmail.com", "Betalt med MobilePay")
    shown = cli("customer", "get", anna).splitlines()
    start = shown.index("Notes (2)")
    assert shown[start + 1].endswith("  Betalt med MobilePay")  # newest first
    assert shown[start + 2].endswith("  Nøglen ligger hos naboen")
    assert datetime.strptime(shown[start + 1][:19], "%d.%m.%Y %H:%M:%S")

    lead = lead_of(cli, "Anna Jensen")["id"]
    cli("note", "add", "lead", lead, "Ringede 30.09: vil gerne have tilbud")
    assert "Ringede 30.09: vil gerne have tilbud" in cli("lead", "show", lead)
    thread = conversation_of(cli, "anna.jensen84@gmail.com", "Tilbud")["id"]
    cli("note", "add", "conversation", thread, "Tilbud godkendt pr. telefon")
    assert "Tilbud godkendt pr. telefon" in cli("conversation", "show", thread)
    data = cli.json("customer", "get", anna)
    assert data["note_count"] == 2 and data["notes"][0]["created_at"].endswith("Z")

    assert cli.fails("note", "add", "invoice", anna, "x") == (
        "Error: unknown note subject 'invoice'; expected one of: customer, lead, conversation"
    )
    assert cli.fails("note", "add", "lead", "nope", "x") == "Error: lead not found: nope"
    assert cli.fails("note", "add", "customer", anna, "  ") == "Error: a note needs some text"


def test_a_draft_is_not_contact(cli: Cli) -> None:
    demo(cli)
    before = cli.json("customer", "get", "henrik@bach-fysio.dk")
    thread = conversation_of(cli, "henrik@bach-fysio.dk", "Rengøring af klinik")["id"]
    assert cli.database is not None
    with cli.database.sessions() as session, session.begin():
        services.create_email_message(
            session,
            conversation_id=thread,
            from_address="info@rendetalje.dk",
            to_address="henrik@bach-fysio.dk",
            body="Kladde",
            direction="outbound",
            status="draft",
            sent_at=datetime(2025, 11, 20, 9, 0, tzinfo=UTC),
        )
    after = cli.json("customer", "get", "henrik@bach-fysio.dk")
    assert after["last_contact_at"] == before["last_contact_at"]
    assert "DRAFT" in cli("conversation", "show", thread)


def test_an_inactive_customer_who_writes_again_is_active(cli: Cli, tmp_path: Path) -> None:
    demo(cli)
    cli("customer", "delete", cli.json("customer", "get", "james.oconnor@outlook.com")["id"])
    assert "James" not in cli("customer", "list")
    mail = new_mail(
        tmp_path, "James O'Connor <james.oconnor@outlook.com>", "Cleaning again?", "Hi again"
    )
    cli("import", "mbox", str(mail))
    assert cli.json("customer", "get", "james.oconnor@outlook.com")["status"] == "active"
    assert "James O'Connor" in cli("customer", "list")


def test_mail_from_a_blocked_customer_is_skipped_and_changes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    demo(cli)
    mette = cli.json("customer", "get", "mette.hansen@gmail.com")
    cli("customer", "update", mette["id"], "--status", "blocked")
    mail = new_mail(tmp_path, "Mette Hansen <mette.hansen@gmail.com>", "Igen", "Hej igen")
    out = cli("import", "mbox", str(mail))
    assert "Skipped:     1" in out
    assert "  blocked:customer                1" in out.splitlines()
    after = cli.json("customer", "get", "mette.hansen@gmail.com")
    assert after["last_contact_at"] == mette["last_contact_at"]
    assert after["status"] == "blocked"
    assert [c["message_count"] for c in after["conversations"]] == [4]
