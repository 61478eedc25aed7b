"""`crm customer import` with files as Excel and Google Sheets write them, on both databases."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from crm_core import services
from tests.cli.conftest import Cli
from tests.cli.customer_files import FLAVOURS, spreadsheet_file
from tests.conftest import Database
from worker.cli.customer_transfer import BATCH

DANISH_ROWS = [
    ["Navn", "E-mail", "Telefon", "Adresse", "Firma", "Noter", "Tags"],
    ["Søren Ærlø", "Soren@Example.dk", "22 33 44 55", "Åvej 3, 8000 Aarhus", "Ærlø ApS",
     "Ring efter kl. 16", "vip; erhverv"],
    ["Mette Hansen", "mette@example.dk", "+45 12 34 56 78", "", "", "", "privat"],
]  # fmt: skip
ENGLISH_ROWS = [
    ["Name", "Email", "Phone", "Address", "Company", "Notes", "Tags"],
    ["Søren Ærlø", "soren@example.dk", "+4522334455", "Åvej 3, 8000 Aarhus", "Ærlø ApS",
     "Ring efter kl. 16", "vip, erhverv"],
]  # fmt: skip


def customers(cli: Cli) -> dict[str, dict[str, object]]:
    lines = cli("customer", "export", "--format", "jsonl", "-o", "-").splitlines()
    found = [json.loads(line) for line in lines]
    return {str(c["email"]).lower(): c for c in found}


def summary(cli: Cli, *args: str) -> dict[str, object]:
    return json.loads(cli("customer", "import", *args, "--json"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_a_spreadsheet_file_creates_its_customers_and_twice_changes_nothing(
    cli: Cli, tmp_path: Path, flavour: str
) -> None:
    path = spreadsheet_file(tmp_path / "kunder.csv", flavour, DANISH_ROWS)
    first = cli("customer", "import", str(path))
    assert "2 created, 0 updated, 0 unchanged, 0 skipped, 0 rejected" in first
    soren = customers(cli)["soren@example.dk"]
    assert soren["name"] == "Søren Ærlø"
    assert soren["email"] == "Soren@Example.dk"
    assert soren["phone"] == "+4522334455"  # as lead emails store it
    assert soren["address"] == "Åvej 3, 8000 Aarhus"
    assert soren["company_name"] == "Ærlø ApS"
    assert soren["notes"] == "Ring efter kl. 16"
    assert soren["tags"] == ["vip", "erhverv"]
    assert summary(cli, str(path)) == {
        "created": 0, "updated": 0, "unchanged": 2, "skipped": 0, "rejected": 0,
        "dry_run": False, "error_file": None,
    }  # fmt: skip


def test_the_shape_of_the_file_is_reported(cli: Cli, tmp_path: Path) -> None:
    rows = [[*DANISH_ROWS[0], "Kundenummer"], [*DANISH_ROWS[1], "17"]]
    path = spreadsheet_file(tmp_path / "kunder.csv", "excel-dk-cp1252", rows)
    out = cli("customer", "import", str(path))
    assert "Windows-1252, separator ';'; ignored columns: Kundenummer" in out
    path = spreadsheet_file(tmp_path / "sheet.csv", "google-sheets", DANISH_ROWS)
    assert "sheet.csv: UTF-8, separator ','" in cli("customer", "import", str(path))


def test_english_headers_and_case_insensitive_email_match(cli: Cli, tmp_path: Path) -> None:
    cli.create("Soren", "SOREN@example.dk")
    path = spreadsheet_file(tmp_path / "c.csv", "google-sheets", ENGLISH_ROWS)
    assert summary(cli, str(path))["skipped"] == 1  # differs; skip is the default
    assert (
        "1 row differs from its stored customer and was skipped: --on-conflict update takes"
        in cli("customer", "import", str(path))
    )
    assert customers(cli)["soren@example.dk"]["name"] == "Soren"
    assert summary(cli, str(path), "--on-conflict", "update")["updated"] == 1
    updated = customers(cli)["soren@example.dk"]
    assert updated["name"] == "Søren Ærlø" and updated["tags"] == ["vip", "erhverv"]
    assert updated["email"] == "SOREN@example.dk"  # the address stays as first written
    assert summary(cli, str(path), "--on-conflict", "update")["unchanged"] == 1


def test_on_conflict_error_stops_at_the_line(cli: Cli, tmp_path: Path) -> None:
    cli.create("Soren", "soren@example.dk")
    path = spreadsheet_file(tmp_path / "c.csv", "google-sheets", ENGLISH_ROWS)
    error = cli.fails("customer", "import", str(path), "--on-conflict", "error")
    assert "line 2: customer soren@example.dk exists with other values" in error
    assert customers(cli)["soren@example.dk"]["name"] == "Soren"


def test_an_empty_cell_leaves_the_stored_value(cli: Cli, tmp_path: Path) -> None:
    cli.create("Mette Hansen", "mette@example.dk", "--address", "Gade 1", "--tag", "vip")
    rows = [["Name", "Email", "Address", "Tags"], ["Mette Hansen", "mette@example.dk", "", ""]]
    path = spreadsheet_file(tmp_path / "c.csv", "google-sheets", rows)
    assert summary(cli, str(path), "--on-conflict", "update")["unchanged"] == 1
    mette = customers(cli)["mette@example.dk"]
    assert mette["address"] == "Gade 1" and mette["tags"] == ["vip"]


def test_map_names_a_column_the_built_in_names_miss(cli: Cli, tmp_path: Path) -> None:
    rows = [["Kunde", "Kontakt"], ["Bo Berg", "bo@example.dk"]]
    path = spreadsheet_file(tmp_path / "c.csv", "google-sheets", rows)
    error = cli.fails("customer", "import", str(path))
    assert "names neither a name nor an email column" in error
    cli("customer", "import", str(path), "--map", "Kunde=name", "--map", "Kontakt=email")
    assert customers(cli)["bo@example.dk"]["name"] == "Bo Berg"
    assert "unknown field" in cli.fails("customer", "import", str(path), "--map", "Kunde=x")


def test_rejected_rows_go_to_the_error_file_with_line_and_reason(cli: Cli, tmp_path: Path) -> None:
    rows = [
        ["Navn", "E-mail", "Telefon", "Status"],
        ["Anna", "anna@example.dk", "", ""],
        ["Bad Mail", "not-an-email", "", ""],
        ["Bad Phone", "bp@example.dk", "abc", ""],
        ["Ragged", "r@example.dk"],
        ["", "", "", ""],  # an empty line: nothing to say about it
        ["Anna again", "ANNA@example.dk", "", ""],
        ["Bad Status", "bs@example.dk", "", "gone"],
        ["", "", "12345678", ""],
    ]
    path = spreadsheet_file(tmp_path / "kunder.csv", "excel-dk-utf8-bom", rows)
    out = cli("customer", "import", str(path))
    assert "1 created, 0 updated, 0 unchanged, 0 skipped, 6 rejected" in out
    assert "line 3: invalid email address 'not-an-email'" in out
    errors = (tmp_path / "kunder.csv.errors.csv").read_text("utf-8-sig").splitlines()
    assert errors[0] == "Line;Reason;Navn;E-mail;Telefon;Status"
    reasons = {int(row[0]): row[1] for row in csv.reader(errors[1:], delimiter=";")}
    assert set(reasons) == {3, 4, 5, 7, 8, 9}
    assert "invalid phone number 'abc'" in reasons[4]
    assert reasons[5] == "2 cells where the header has 4"
    assert reasons[7] == "duplicate of line 2 (same email): the first row is kept"
    assert reasons[8].startswith("unknown status 'gone'; expected one of: active")
    assert reasons[9] == "neither a name nor an email"
    assert list(customers(cli)) == ["anna@example.dk"]
    # Fixed in the spreadsheet, the error file itself imports (Line and Reason are ignored).
    fixed = errors[0] + "\r\n" + errors[1].replace("not-an-email", "bad@example.dk")
    (tmp_path / "fixed.csv").write_text(fixed, encoding="utf-8-sig")
    assert "1 created" in cli("customer", "import", str(tmp_path / "fixed.csv"))


def test_rejected_rows_of_several_batches_are_listed_in_line_order(
    cli: Cli, tmp_path: Path
) -> None:
    """Rows refused by the check and rows refused as duplicates, over three batches."""
    rows = [["Navn", "E-mail"]]
    rows += [[f"Kunde {n}", f"k{n}@example.dk"] for n in range(2 * BATCH + 50)]
    rows[2][1] = "not-an-email"  # line 3
    rows[BATCH + 10][1] = "k0@example.dk"  # line BATCH + 11: a duplicate of line 2
    rows[BATCH + 20][1] = "also-not-an-email"  # line BATCH + 21
    rows[2 * BATCH + 40][1] = "k5@example.dk"  # a duplicate in the third batch
    path = spreadsheet_file(tmp_path / "mange.csv", "excel-dk-utf8-bom", rows)
    done = summary(cli, str(path))
    assert done["created"] == 2 * BATCH + 50 - 4
    assert done["rejected"] == 4
    errors = (tmp_path / "mange.csv.errors.csv").read_text("utf-8-sig").splitlines()[1:]
    lines = [int(row[0]) for row in csv.reader(errors, delimiter=";")]
    assert lines == [3, BATCH + 11, BATCH + 21, 2 * BATCH + 41]


def test_dry_run_counts_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    path = spreadsheet_file(tmp_path / "c.csv", "excel-dk-cp1252", DANISH_ROWS)
    out = cli("customer", "import", str(path), "--dry-run")
    assert "Would import: 2 created" in out
    assert customers(cli) == {}


def test_customers_without_email_are_matched_by_name_and_phone(cli: Cli, tmp_path: Path) -> None:
    rows = [["Navn", "Telefon"], ["Ole Olsen", "22 33 44 55"], ["Ole Olsen", "11 22 33 44"]]
    path = spreadsheet_file(tmp_path / "c.csv", "excel-dk-cp1252", rows)
    assert summary(cli, str(path))["created"] == 2
    assert summary(cli, str(path))["unchanged"] == 2


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_customer_stored_by_someone_else_during_the_import_gets_the_row(
    database: Database, cli: Cli, tmp_path: Path
) -> None:
    """Between the batch's lookup and its INSERT, the worker files Mette's first mail and
    creates her (committed by another connection). Her row is matched to that customer
    like any stored one, not counted as created and lost. (On SQLite the write lock
    makes the import wait or fail instead: no race to lose a row in.)"""
    path = tmp_path / "kunder.csv"
    path.write_text(
        "Navn;E-mail;Telefon;Tags\r\nMette Hansen;mette@example.dk;12345678;vip\r\n"
        "Bo Jensen;bo@example.dk;;\r\n",
        encoding="utf-8-sig",
    )
    raced: list[str] = []

    def worker_first(
        conn: Any,
        cursor: Any,
        statement: str,
        *args: Any,  # before_cursor_execute's
    ) -> None:
        if not raced and statement.startswith('INSERT INTO "customers"'):
            raced.append(statement)
            with database.sessions() as session, session.begin():
                services.find_or_create_customer(session, "Mette@Example.dk")

    event.listen(Engine, "before_cursor_execute", worker_first)
    try:
        done = summary(cli, str(path), "--on-conflict", "update")
    finally:
        event.remove(Engine, "before_cursor_execute", worker_first)
    assert raced, "the import wrote no customers"
    assert (done["created"], done["updated"], done["rejected"]) == (1, 1, 0)
    stored = customers(cli)
    mette = stored["mette@example.dk"]
    assert (mette["name"], mette["phone"], mette["tags"]) == (
        "Mette Hansen",
        "+4512345678",
        ["vip"],
    )
    assert len(stored) == 2
