"""`crm customer export` as a user sees it, and an export imported again changing nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli.conftest import Cli

FORMULAS = {
    "name": "=cmd|' /C calc'!A0",
    "company": "@SUM(1+1)",
    "notes": "-2+3",
    "address": "+45 Vej 1",
}


def _sell(cli: Cli, customer_id: str, total: str) -> None:
    lead = cli.json("lead", "create", "--source", "website", "--name", "Lead")["id"]
    cli("customer", "link-lead", lead, customer_id)
    quote = cli.json("quote", "create", "--lead", lead, "--total", total)["id"]
    cli("quote", "accept", quote)
    cli("booking", "create", "--quote", quote, "--at", "2025-10-01T09:00")


def _rows(path: Path, encoding: str = "utf-8", delimiter: str = ",") -> list[dict[str, str]]:
    text = path.read_text(encoding)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_csv_export_has_every_field_with_figures(cli: Cli, tmp_path: Path) -> None:
    tags = ["--tag", "vip", "--tag", "erhverv"]
    extra = [*tags, "--company", "Jensen ApS", "--notes", "Linje 1\nLinje 2"]
    anna = cli.create("Anna Jensen", "Anna@Example.dk", "22 33 44 55", *extra)
    _sell(cli, anna, "3450.50")
    out = cli("customer", "export", "-o", str(tmp_path / "kunder.csv"))
    assert "Exported 1 customer to" in out
    (row,) = _rows(tmp_path / "kunder.csv")
    assert list(row) == [
        "ID", "Name", "Email", "Phone", "Company", "Address", "Notes", "Tags", "Status", "Aliases",
        "Leads", "Bookings", "Revenue", "Last contact", "Created", "Updated",
    ]  # fmt: skip
    assert row["ID"] == anna and row["Email"] == "Anna@Example.dk"
    assert row["Phone"] == "22 33 44 55"
    assert row["Notes"] == "Linje 1\nLinje 2"
    assert row["Tags"] == "vip, erhverv"
    assert (row["Leads"], row["Bookings"], row["Revenue"]) == ("1", "1", "3450.50")
    stored = cli.json("customer", "get", anna)
    assert row["Created"] == stored["created_at"][:19] + "Z"


def test_excel_export_is_what_danish_excel_opens(cli: Cli, tmp_path: Path) -> None:
    anna = cli.create("Søren Ærlø", "soren@example.dk")
    _sell(cli, anna, "3450.50")
    cli("customer", "export", "--excel", "-o", str(tmp_path / "kunder.csv"))
    raw = (tmp_path / "kunder.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfID;Name;Email;")
    assert "Søren Ærlø".encode() in raw
    (row,) = _rows(tmp_path / "kunder.csv", "utf-8-sig", ";")
    assert row["Revenue"] == "3450,50"
    assert len(row["Created"]) == 19 and row["Created"][10] == " "


def test_cells_that_a_spreadsheet_would_run_are_neutralised(cli: Cli, tmp_path: Path) -> None:
    cli.create(FORMULAS["name"], "f@example.dk", "--company", FORMULAS["company"],
               "--notes", FORMULAS["notes"], "--address", FORMULAS["address"])  # fmt: skip
    for excel in ([], ["--excel"]):
        path = tmp_path / f"f{len(excel)}.csv"
        cli("customer", "export", *excel, "-o", str(path))
        (row,) = _rows(path, "utf-8-sig", ";" if excel else ",")
        assert row["Name"] == "'" + FORMULAS["name"]
        assert row["Company"] == "'" + FORMULAS["company"]
        assert row["Notes"] == "'" + FORMULAS["notes"]
        assert row["Address"] == "'" + FORMULAS["address"]
        out = cli("customer", "import", str(path), "--on-conflict", "error")
        assert "0 created, 0 updated, 1 unchanged" in out
    stored = json.loads(cli("customer", "export", "--format", "jsonl", "-o", "-"))
    assert stored["name"] == FORMULAS["name"] and stored["notes"] == FORMULAS["notes"]


def test_jsonl_to_standard_output(cli: Cli) -> None:
    anna = cli.create("Anna", "anna@example.dk", "--tag", "vip")
    lines = cli("customer", "export", "--format", "jsonl", "-o", "-").splitlines()
    (record,) = [json.loads(line) for line in lines]
    assert record["id"] == anna and record["tags"] == ["vip"]
    assert record["total_revenue"] == "0.00" and record["last_contact_at"] is None
    assert record["created_at"].endswith("Z")


def test_filters_select_what_is_exported(cli: Cli) -> None:
    cli.create("A", "a@example.dk", "--tag", "vip")
    b = cli.create("B", "b@example.dk", "--tag", "vip", "--tag", "news")
    cli.create("C", "c@example.dk")
    cli("customer", "update", b, "--status", "blocked")

    def names(*filters: str) -> list[str]:
        return [
            r["Name"]
            for r in csv.DictReader(io.StringIO(cli("customer", "export", "-o", "-", *filters)))
        ]

    assert names() == ["A", "B", "C"]
    assert names("--tag", "vip") == ["A", "B"]
    assert names("--tag", "vip", "--tag", "news") == ["B"]
    assert names("--tag", "news", "--tag", "x", "--any-tag") == ["B"]
    assert names("--status", "active") == ["A", "C"]
    assert names("--created-before", "2000-01-01") == []
    assert names("--created-since", "2000-01-01", "--contacted-since", "2000-01-01") == []


def test_export_errors_are_one_line_and_leave_no_file(cli: Cli, tmp_path: Path) -> None:
    cli.create("A", "a@example.dk")
    target = tmp_path / "missing" / "out.csv"
    assert "cannot write it" in cli.fails("customer", "export", "-o", str(target))
    assert "unknown --format" in cli.fails("customer", "export", "-o", "x", "--format", "xlsx")
    assert "not a date and time" in cli.fails(
        "customer", "export", "-o", "x", "--created-since", "igår"
    )
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".csv" or p.name == "x"] == []
    # Refused before the header: standard output holds nothing to mistake for an export.
    for fmt in ("csv", "jsonl"):
        bad = cli.run("customer", "export", "-o", "-", "--format", fmt, "--status", "bogus", code=1)
        assert bad.stdout == "" and "status" in bad.stderr


def test_an_export_imported_again_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    a = cli.create("Anna", "anna@example.dk", "12 34 56 78", "--tag", "vip",
                   "--notes", 'Siger "hej"; ringer\r\nigen, altid')  # fmt: skip
    cli.json("customer", "create", "Bo uden mail", "", "+45 22 33 44 55")
    cli("customer", "update", a, "--status", "inactive")
    for fmt in (["--format", "csv"], ["--excel"]):
        first = tmp_path / "first.csv"
        cli("customer", "export", *fmt, "-o", str(first))
        out = json.loads(cli("customer", "import", str(first), "--on-conflict", "error", "--json"))
        assert (out["created"], out["updated"], out["unchanged"], out["rejected"]) == (0, 0, 2, 0)
        second = tmp_path / "second.csv"
        cli("customer", "export", *fmt, "-o", str(second))
        assert second.read_bytes() == first.read_bytes()


def test_aliases_are_exported_and_an_alias_row_updates_the_kept_customer(
    cli: Cli, tmp_path: Path
) -> None:
    from crm_core.customers import merge_customers

    kept = cli.create("Anna Jensen", "anna@example.dk")
    old = cli.create("Anna J", "Anna.Old@Example.dk")
    assert cli.database is not None
    with cli.database.sessions() as session:
        merge_customers(session, kept, old)
        session.commit()
    (row,) = csv.DictReader(io.StringIO(cli("customer", "export", "-o", "-")))
    assert row["ID"] == kept and row["Aliases"] == "Anna.Old@Example.dk"
    path = tmp_path / "c.csv"
    path.write_text("Navn,E-mail,Firma\r\nAnna Jensen,anna.old@example.dk,Jensen ApS\r\n")
    out = json.loads(cli("customer", "import", str(path), "--on-conflict", "update", "--json"))
    assert (out["created"], out["updated"]) == (0, 1)
    assert cli.json("customer", "get", kept)["company_name"] == "Jensen ApS"
