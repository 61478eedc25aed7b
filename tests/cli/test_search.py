"""`crm search` as a user sees it, on PostgreSQL and SQLite: customers from any
fragment, messages by their words, filters, and `crm customer get` suggestions."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from tests.search.mail import Mail, write_mbox

METTE = "Mette Hansen <mette.hansen@example.dk>"
SOFIE = "Sofie Lund <sofie@lundklinik.dk>"
JOHN = "John Carter <john.carter@example.com>"

MAILS = [
    Mail(METTE, "Tilbud ønskes", "Hej, kan I give et tilbud på rengøring af min lejlighed?"),
    Mail(
        SOFIE,
        "Klinik i Risskov",
        "Vi søger flytte rengøring af klinikken, men ikke vinduer denne gang.",
        days_ago=40,
    ),
    Mail(SOFIE, "Hovedrengøring", "Kan I også tage en hovedrengøring i december?", days_ago=30),
    Mail(JOHN, "Cleaning quote", "I would like a quote for cleaning my apartment in Aarhus C."),
    Mail(
        "Rendetalje <info@rendetalje.dk>",
        "Re: Tilbud ønskes",
        "Tak for din mail. Flytterengøringen koster 3.450 kr.",
        to=METTE,
    ),
]


@pytest.fixture
def mailbox_imported(cli: Cli, tmp_path: Path) -> None:
    summary = cli.json("import", "mbox", str(write_mbox(tmp_path / "mail.mbox", MAILS)))
    assert summary["messages"] == len(MAILS)


def subjects(result: dict[str, Any]) -> list[str]:
    return [hit["subject"] for hit in result["messages"]["hits"]]


def names(result: dict[str, Any]) -> list[str]:
    return [hit["name"] for hit in result["customers"]["hits"]]


def test_a_customer_is_found_by_a_misspelt_name(cli: Cli) -> None:
    cli.create("Mette Hansen", "mette.hansen@example.dk", "+45 12 34 56 78")
    cli.create("Mads Jensen", "mads@example.dk")
    cli.create("Mette Frederiksen", "mf@example.dk")

    found = cli.json("search", "Mete Hansn", "--customers")
    assert names(found)[0] == "Mette Hansen"
    first = found["customers"]["hits"][0]
    assert first["matched_field"] == "name"
    assert first["snippet"] == "Mette Hansen"
    assert first["highlights"]  # the matched stretches are marked
    assert "Mads Jensen" not in names(found)

    out = cli("search", "Mete Hansn", "--customers")
    assert out.splitlines()[0].startswith("Customers (")
    assert "Mette Hansen · mette.hansen@example.dk · +45 12 34 56 78" in out
    assert "name: Mette Hansen" in out


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Tina Nielen", "Tina Nielsen"),  # a letter left out of a short name
        ("Tna Nielsen", "Tina Nielsen"),
        ("Tina Nilesen", "Tina Nielsen"),  # one letter changed
        ("Charltte Johanen", "Charlotte Johansen"),
        ("Frderksen Mette", "Mette Frederiksen"),  # two edits in a long name
        ("sofei lund", "Sofie Lund"),
    ],
)
def test_a_letter_or_two_wrong_still_finds_the_customer(cli: Cli, typed: str, meant: str) -> None:
    for name, email in [
        ("Tina Nielsen", "tina@example.dk"),
        ("Tina Nissen", "tn@example.dk"),
        ("Charlotte Johansen", "cj@example.dk"),
        ("Mette Frederiksen", "mf@example.dk"),
        ("Sofie Lund", "sofie@example.dk"),
        ("Mette Jensen", "mj@example.dk"),
    ]:
        cli.create(name, email)
    assert names(cli.json("search", typed, "--customers"))[0] == meant


def test_a_name_held_as_written_is_not_taken_for_a_misspelling(cli: Cli) -> None:
    cli.create("Mette Hansen", "mh@example.dk")
    cli.create("Mette Jensen", "mj@example.dk")
    cli.create("Mette Larsen", "ml@example.dk")
    assert names(cli.json("search", "Mette Hansen", "--customers")) == ["Mette Hansen"]
    assert names(cli.json("search", "jensen", "--customers")) == ["Mette Jensen"]
    # Two letters wrong in a name of six: too far to be a misspelling.
    assert names(cli.json("search", "Mette Hxnsxn", "--customers")) == []


@pytest.mark.parametrize("spelling", ["12 34 56 78", "+45 12345678", "12345678", "+4512-345-678"])
def test_a_phone_number_in_any_spelling(cli: Cli, spelling: str) -> None:
    mette = cli.create("Mette Hansen", "mette.hansen@example.dk", "+45 12 34 56 78")
    cli.create("Sofie Lund", "sofie@example.dk", "12345679")
    other = cli.create("Ole Berg", "ole@example.dk", "12345678")  # written without +45
    found = cli.json("search", spelling, "--customers")
    assert {hit["customer_id"] for hit in found["customers"]["hits"]} == {mette, other}
    assert found["customers"]["total"] == 2
    hit = next(h for h in found["customers"]["hits"] if h["customer_id"] == mette)
    assert hit["matched_field"] == "phone"
    start, end = hit["highlights"][0]
    assert hit["snippet"][start:end] == "12 34 56 78"


def test_a_customer_by_email_company_or_address_fragment(cli: Cli) -> None:
    cli.create("Sofie Lund", "sofie@lundklinik.dk", "--company", "Lund Klinik ApS")
    cli.create("Ole Berg", "ole@example.dk", "--address", "Søndergade 12, 8000 Aarhus C")
    assert names(cli.json("search", "lundklinik", "--customers")) == ["Sofie Lund"]
    assert names(cli.json("search", "Lund Klinik", "--customers"))[0] == "Sofie Lund"
    found = cli.json("search", "søndergade", "--customers")
    assert names(found) == ["Ole Berg"]
    assert found["customers"]["hits"][0]["matched_field"] == "address"
    assert "address: Søndergade 12, 8000 Aarhus C" in cli("search", "Søndergade", "--customers")


@pytest.mark.usefixtures("mailbox_imported")
def test_danish_words_are_found_in_other_forms(cli: Cli) -> None:
    found = cli.json("search", "rengøringen", "--messages")
    assert "Tilbud ønskes" in subjects(found)
    hit = next(h for h in found["messages"]["hits"] if h["subject"] == "Tilbud ønskes")
    start, end = hit["highlights"][0]
    assert hit["snippet"][start:end] == "rengøring"
    assert hit["customer_name"] == "Mette Hansen"
    assert hit["direction"] == "inbound"

    out = cli("search", "rengøringen", "--messages")
    assert "Mette Hansen — Tilbud ønskes" in out
    assert "tilbud på rengøring af min lejlighed" in out


@pytest.mark.usefixtures("mailbox_imported")
def test_web_search_syntax(cli: Cli) -> None:
    assert subjects(cli.json("search", '"flytte rengøring"', "--messages")) == ["Klinik i Risskov"]
    assert subjects(cli.json("search", '"flytte rengøring" -vinduer', "--messages")) == []
    either = subjects(
        cli.json("search", '"flytte rengøring" -vinduer OR hovedrengøring', "--messages")
    )
    assert either == ["Hovedrengøring"]
    assert subjects(cli.json("search", "cleaning apartment", "--messages")) == ["Cleaning quote"]


@pytest.mark.usefixtures("mailbox_imported")
def test_filters_by_direction_customer_and_date(cli: Cli) -> None:
    outbound = cli.json("search", "tilbud", "--direction", "out")
    assert "customers" not in outbound  # message filters search messages only
    assert subjects(outbound) == ["Re: Tilbud ønskes"]
    sofie = cli.json("search", "sofie", "--customers")["customers"]["hits"][0]["customer_id"]
    either = "rengøring OR hovedrengøring"
    assert sorted(subjects(cli.json("search", either, "--customer", sofie))) == [
        "Hovedrengøring",
        "Klinik i Risskov",
    ]
    since = (date.today() - timedelta(days=35)).isoformat()
    assert subjects(cli.json("search", either, "--customer", sofie, "--since", since)) == [
        "Hovedrengøring"
    ]


def test_a_message_stored_a_moment_ago_is_found(cli: Cli, tmp_path: Path) -> None:
    assert cli.json("search", "vinduespudsning", "--messages")["messages"]["total"] == 0
    mail = Mail(METTE, "Vinduer", "Kan I komme med vinduespudsning på fredag?")
    cli("import", "mbox", str(write_mbox(tmp_path / "new.mbox", [mail])))
    found = cli.json("search", "vinduespudsning", "--messages")
    assert subjects(found) == ["Vinduer"]
    assert found["messages"]["total"] == 1


@pytest.mark.usefixtures("mailbox_imported")
def test_both_kinds_with_a_limit_and_the_total(cli: Cli) -> None:
    out = cli("search", "rengøring", "--limit", "1")
    lines = out.splitlines()
    assert lines[0].startswith("Customers (")
    messages = next(line for line in lines if line.startswith("Messages ("))
    assert messages.startswith("Messages (1 of ")  # the limit and how many there are in all
    found = cli.json("search", "rengøring", "--limit", "1", "--messages")
    assert len(found["messages"]["hits"]) == 1
    assert found["messages"]["total"] == 2
    assert "No message matches." in cli("search", "zzyzx", "--messages")


def test_mistakes_are_one_line(cli: Cli) -> None:
    assert "not both" in cli.fails("search", "x", "--customers", "--messages")
    assert "leave out --customers" in cli.fails("search", "x", "--customers", "--direction", "in")
    assert "nothing to search for" in cli.fails("search", "  ", "--messages")
    assert "nothing to search for" in cli.fails("search", "--messages", "--", "-vinduer")
    assert "--since" in cli.fails("search", "x", "--since", "last week")
    # An excluded word first looks like options to the command line: say how to write it.
    mistaken = cli.run("search", "-vinduer", "rengøring", code=2)
    assert mistaken.stderr.count("\n") == 1 and "Traceback" not in mistaken.output
    assert "crm search -- '-vinduer rengøring'" in mistaken.stderr
    mistyped = cli.run("search", "x", "--custmer", "c-1", code=2).stderr
    assert "--customer" in mistyped and "put --" not in mistyped


def test_customer_get_suggests_the_closest_customers(cli: Cli) -> None:
    cli.create("Mette Hansen", "mette.hansen@example.dk")
    error = cli.fails("customer", "get", "Mette Hansen")
    assert error == (
        "Error: customer not found: Mette Hansen; closest: Mette Hansen "
        "(mette.hansen@example.dk) (give the email or ID)"
    )
    assert cli.fails("customer", "get", "Zyx Qwv") == "Error: customer not found: Zyx Qwv"
