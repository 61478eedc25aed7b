"""Amounts and times on screen: Danish by default, `[display]` for other countries;
`--json` always UTC ISO 8601 with amounts as strings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli, table_row
from worker.cli.display import money


def test_danish_amounts_by_default_and_json_unchanged(cli: Cli) -> None:
    john = cli.create("John Doe", "john@example.com")
    quote = cli.json("quote", "create", "--customer", john, "--total", "1234567.5")
    assert quote["total"] == "1234567.50"
    cli("quote", "accept", quote["id"])
    assert table_row(cli("customer", "list"), "John Doe")[-1] == "1.234.567,50 kr"
    booking = cli.json("booking", "create", "--customer", john, "--at", "31.10.2025 08:00")
    assert booking["scheduled_at"] == "2025-10-31T07:00:00.000000Z"  # 08:00 in Copenhagen


def test_locale_and_time_zone_from_the_display_settings(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "office.toml"
    config.write_text('[display]\nlocale = "en_GB"\ntime_zone = "Europe/London"\n')
    monkeypatch.setenv("CRM_CONFIG", str(config))
    john = cli.create("John Doe", "john@example.com")
    cli(
        "quote",
        "accept",
        cli.json("quote", "create", "--customer", john, "--total", "3450.5")["id"],
    )
    assert table_row(cli("customer", "list"), "John Doe")[-1] == "3,450.50 kr"
    out = cli("booking", "create", "--customer", john, "--at", "31.10.2025 08:00")
    assert "Scheduled: 31.10.2025 08:00:00" in out  # read and shown in London time
    assert cli.json("booking", "list")["bookings"][0]["scheduled_at"] == (
        "2025-10-31T08:00:00.000000Z"
    )


def test_a_bad_display_setting_is_one_line(bare_cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[display]\ntime_zone = "Mars/Olympus"\n')
    error = bare_cli.fails("--config", str(config), "customer", "list")
    assert "display.time_zone" in error and "unknown time zone 'Mars/Olympus'" in error


@pytest.mark.parametrize(
    ("amount", "locale", "shown"),
    [
        ("3450.50", "da_DK", "3.450,50 kr"),
        ("5000", "da_DK", "5.000 kr"),
        ("0", "da_DK", "0 kr"),
        ("999.99", "da_DK", "999,99 kr"),
        ("3450.50", "en_GB", "3,450.50 kr"),
        ("3450.50", "de_DE", "3.450,50 kr"),
    ],
)
def test_money(amount: str, locale: str, shown: str) -> None:
    assert money(amount, locale) == shown
