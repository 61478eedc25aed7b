"""One person under two addresses: `crm customer duplicates` and `crm customer merge`."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli
from tests.cli.office import demo, new_mail


def test_duplicates_then_merge_and_the_alias_takes_new_mail(cli: Cli, tmp_path: Path) -> None:
    demo(cli)
    right = cli.create("Søren Madsen", "soren.madsen@gmail.com", "40 11 22 33")
    typo = cli.json("customer", "get", "soren.madsen@gmial.com")["id"]
    cli.create("Søren Larsen", "soren.larsen@example.com")  # not a duplicate

    found = cli.json("customer", "duplicates")
    assert found["total"] == 1
    pair = found["pairs"][0]
    assert {pair["first"]["id"], pair["second"]["id"]} == {right, typo}
    assert pair["reasons"] == ["same phone", "addresses one typo apart"]
    assert "crm customer merge" in cli("customer", "duplicates")

    dry = cli("customer", "merge", right, "soren.madsen@gmial.com", "--dry-run")
    assert dry.splitlines()[1:] == [
        "would move 1 lead, 1 conversation, 0 quotes, 0 bookings, 0 notes.",
        "Nothing was changed.",
    ]
    assert cli.json("customer", "get", "soren.madsen@gmial.com")["id"] == typo

    cli("note", "add", "customer", typo, "Skrev forkert adresse i formularen")
    out = cli("customer", "merge", "soren.madsen@gmail.com", typo)
    assert out.splitlines() == [
        "✅ Merged Søren Madsen <soren.madsen@gmial.com> into Søren Madsen "
        "<soren.madsen@gmail.com>.",
        "Moved 1 lead, 1 conversation, 0 quotes, 0 bookings, 1 note.",
        "soren.madsen@gmial.com is now an alias of Søren Madsen.",
        "Søren Madsen: 1 lead, 0 bookings, 0 kr revenue",
    ]
    kept = cli.json("customer", "get", "SOREN.MADSEN@gmial.com")  # the alias finds the kept one
    assert kept["id"] == right and kept["aliases"] == ["soren.madsen@gmial.com"]
    assert kept["total_leads"] == 1 and kept["last_contact_at"].startswith("2025-10-06")
    assert {note["body"][:6] for note in kept["notes"]} == {"Merged", "Skrev "}
    assert "Aliases: soren.madsen@gmial.com" in cli("customer", "get", right)
    listed = cli.json("customer", "list")
    assert [c["id"] for c in listed if c["name"] == "Søren Madsen"] == [right]
    assert cli.json("customer", "duplicates")["total"] == 0

    mail = new_mail(tmp_path, "Søren <soren.madsen@gmial.com>", "Rengøring", "Hej igen")
    out = cli("import", "mbox", str(mail))
    assert "Customers:   0 created" in out
    kept = cli.json("customer", "get", right)
    assert len(kept["conversations"]) == 2
    assert kept["last_contact_at"].startswith("2025-12-01")

    error = cli.fails("customer", "create", "Søren", "soren.madsen@gmial.com")
    assert error == "Error: a customer with email soren.madsen@gmial.com already exists"
    assert cli.fails("customer", "merge", right, typo) == (
        f"Error: customer {typo} was merged into {right} already"
    )
    assert cli.fails("customer", "merge", right, right) == (
        "Error: a customer cannot be merged into itself"
    )


def test_merge_moves_quotes_and_bookings_and_sums_the_figures(cli: Cli) -> None:
    demo(cli)
    private = cli.json("customer", "get", "mads.nielsen.aarhus@outlook.dk")["id"]
    work = cli.create("Mads Nielsen", "mads@nielsen-byg.dk")
    quote = cli.json("quote", "create", "--customer", work, "--total", "1250.25")["id"]
    cli("quote", "accept", quote)
    cli("booking", "create", "--quote", quote, "--at", "01.12.2025 09:00")
    cli(
        "quote",
        "accept",
        cli.json("quote", "create", "--customer", private, "--total", "800")["id"],
    )

    result = cli.json("customer", "merge", private, work)
    assert result["moved"] == {
        "leads": 0,
        "conversations": 0,
        "quotes": 1,
        "bookings": 1,
        "notes": 0,
    }
    assert (result["total_leads"], result["total_bookings"], result["total_revenue"]) == (
        2,
        1,
        "2050.25",
    )
    assert cli.json("customer", "get", "mads@nielsen-byg.dk")["id"] == private


def test_duplicates_by_name_and_address_are_bounded(cli: Cli) -> None:
    for number, address in enumerate(
        ["Vestergade 1, 8000 Aarhus C", "vestergade 1  8000 aarhus c"]
    ):
        cli.create("Mette Holm", f"mette{number}@example.dk", "--address", address)
    cli.create("Mette Holm", "mette.work@example.com", "--address", "Vestergade 1, 8000 Aarhus C")
    cli.create("Mette Holm", "mette.other@example.com", "--address", "Søndergade 2")
    found = cli.json("customer", "duplicates")
    assert found["total"] == 3
    assert {tuple(pair["reasons"]) for pair in found["pairs"]} == {("same name and address",)}
    out = cli("customer", "duplicates", "--limit", "2")
    assert out.splitlines()[-1] == "Showing 2 of 3 pairs (--limit to see more)"
