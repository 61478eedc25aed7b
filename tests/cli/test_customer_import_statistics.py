"""A large import into a young PostgreSQL database leaves the planner knowing the table's
size: without it, each batch's lookup of stored addresses was planned for the empty
table and scanned every customer (crm_core.transfer.table_growth)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cli.conftest import Cli
from tests.conftest import Database

ROWS = 12_000


def _file(path: Path, rows: int) -> Path:
    lines = ["Navn;E-mail;Telefon"]
    lines += [f"Kunde {n};kunde.{n}@example.dk;{30000000 + n}" for n in range(rows)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    return path


def _planned_rows(database: Database) -> float:
    with database.engine.connect() as connection:
        return float(
            connection.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('customers')")
            ).scalar_one()
        )


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_large_import_leaves_postgresql_knowing_the_table_size(
    database: Database, cli: Cli, tmp_path: Path
) -> None:
    assert _planned_rows(database) <= 0  # emptied by TRUNCATE: never measured
    out = cli("customer", "import", str(_file(tmp_path / "kunder.csv", ROWS)))
    assert f"{ROWS} created" in out
    # Measured when the import had doubled the table: within a factor 2 of the truth.
    assert _planned_rows(database) >= ROWS / 2


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_small_import_does_not_measure_the_table(
    database: Database, cli: Cli, tmp_path: Path
) -> None:
    cli("customer", "import", str(_file(tmp_path / "kunder.csv", 300)))
    assert _planned_rows(database) <= 0
