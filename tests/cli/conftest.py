"""Run `crm` in-process (typer.testing.CliRunner) against the test databases."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tests.conftest import Database
from worker.cli.main import app


class Cli:
    """``cli("customer", "list")`` runs ``crm customer list`` and checks the exit code."""

    def __init__(self, database: Database | None) -> None:
        self.database = database
        self.runner = CliRunner()

    def run(self, *args: str, code: int = 0) -> Result:
        result = self.runner.invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (
            f"crm {' '.join(args)} exited {result.exit_code}:\n{result.output}"
        )
        return result

    def __call__(self, *args: str) -> str:
        """Standard output of a successful command."""
        return self.run(*args).stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def fails(self, *args: str) -> str:
        """The error line of a command that must fail with exit code 1."""
        result = self.run(*args, code=1)
        assert "Traceback" not in result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: ")
        return lines[0]

    def create(self, name: str, email: str | None = None, *extra: str) -> str:
        """Create a customer and return its ID."""
        args = [name] + ([email] if email else []) + list(extra)
        return str(self.json("customer", "create", *args)["id"])


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Nothing from the developer's environment or ./config.toml leaks in.
    for key in ("CRM_CONFIG", "CRM_DATABASE_URL", "CRM_DATABASE_PG_SCHEMA", "CRM_DATABASE_ECHO"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cli]:
    """`crm` pointed at the test database (PostgreSQL and SQLite) through CRM_* variables."""
    _clean_env(monkeypatch, tmp_path)
    for key, value in database.env().items():
        monkeypatch.setenv(key, value)
    yield Cli(database)


@pytest.fixture
def bare_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """`crm` with a clean environment in an empty working directory."""
    _clean_env(monkeypatch, tmp_path)
    return Cli(None)


def danish(moment_iso: str) -> str:
    """The Danish local rendering of a JSON (UTC) timestamp."""
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(moment_iso.replace("Z", "+00:00"))
    assert moment.tzinfo == UTC
    return moment.astimezone(ZoneInfo("Europe/Copenhagen")).strftime("%d.%m.%Y %H:%M:%S")


def table_row(output: str, first_cell: str) -> list[str]:
    """The cells of the table row that starts with ``first_cell`` (2+ spaces apart)."""
    for line in output.splitlines():
        if line.startswith(first_cell):
            return re.split(r"\s{2,}", line.strip())
    raise AssertionError(f"no row for {first_cell!r} in:\n{output}")
