"""The installed `crm` executable, run as a user runs it: a new process, a pipe, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Database

CRM = Path(sys.executable).with_name("crm")


def crm(*args: str, cwd: Path, env: dict[str, str] | None = None, code: int = 0) -> str:
    """Run `crm`; return stdout (code 0) or the stderr (otherwise), checking the exit code."""
    assert CRM.is_file(), f"{CRM} is missing: install the package (pip install -e .)"
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CRM_") or key == "CRM_RESIDENT"  # tests/conftest.py
    }
    process = subprocess.run(
        [str(CRM), *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert "Traceback" not in process.stdout + process.stderr, process.stderr
    assert process.returncode == code, f"crm {' '.join(args)}:\n{process.stdout}{process.stderr}"
    return process.stdout if code == 0 else process.stderr


def test_a_user_session_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    out = crm("db", "upgrade", cwd=tmp_path)
    assert out.startswith("✅ Database upgraded.")
    assert (tmp_path / "crm.db").is_file()

    out = crm("customer", "create", "John Doe", "john@example.com", "+45 12345678", cwd=tmp_path)
    lines = out.splitlines()
    assert lines[0] == "✅ Customer created successfully!"
    assert lines[1] == "━" * 50
    assert lines[3:6] == ["Name:    John Doe", "Email:   john@example.com", "Phone:   +45 12345678"]
    assert re.fullmatch(r"Created: \d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}", lines[7])
    crm("customer", "create", "Jane Smith", "jane@company.com", cwd=tmp_path)

    out = crm("customer", "list", cwd=tmp_path)
    assert (
        "Name                      Email                          Leads    Bookings   Revenue"
        in out
    )
    assert re.search(r"^John Doe\s+john@example\.com\s+0\s+0\s+0 kr$", out, re.MULTILINE)
    assert re.search(r"^Jane Smith\s+jane@company\.com\s+0\s+0\s+0 kr$", out, re.MULTILINE)
    assert out.splitlines()[-1] == "Total: 2 customers"
    assert "\x1b[" not in out  # no colour codes in a pipe

    customers = json.loads(crm("customer", "list", "--json", cwd=tmp_path))
    assert {c["email"] for c in customers} == {"john@example.com", "jane@company.com"}
    john = next(c for c in customers if c["name"] == "John Doe")
    assert john["phone"] == "+45 12345678"
    assert (john["status"], john["total_revenue"], john["tags"]) == ("active", "0.00", [])
    assert john["created_at"].endswith("Z")

    error = crm("customer", "create", "John", "JOHN@EXAMPLE.COM", cwd=tmp_path, code=1)
    assert error.strip() == "Error: a customer with email john@example.com already exists"
    error = crm("customer", "list", "gone", cwd=tmp_path, code=1)
    assert error.strip().startswith("Error: unknown status 'gone'")
    error = crm("customer", "get", "nobody@example.com", cwd=tmp_path, code=1)
    assert error.strip() == "Error: customer not found: nobody@example.com"
    error = crm("customer", "create", "X", "not-an-email", cwd=tmp_path, code=1)
    assert error.strip().startswith("Error: invalid email address 'not-an-email'")
    assert len(error.strip().splitlines()) == 1

    assert crm("db", "check", cwd=tmp_path).startswith("✅ Models and migrations agree")


def test_first_use_without_upgrade_creates_the_embedded_database(tmp_path: Path) -> None:
    assert crm("customer", "list", cwd=tmp_path).splitlines()[-1] == "Total: 0 customers"
    assert crm("db", "current", cwd=tmp_path).splitlines()[-1].endswith("(head)")


@pytest.mark.parametrize("args", [("customer", "get", "missing-id"), ("quote", "accept", "nope")])
def test_errors_against_both_databases(
    database: Database, tmp_path: Path, args: tuple[str]
) -> None:
    error = crm(*args, cwd=tmp_path, env=database.env(), code=1)
    assert len(error.strip().splitlines()) == 1
    assert error.startswith("Error: ") and "not found" in error
