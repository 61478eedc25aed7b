"""`crm db …`, first use of the embedded database, configuration and connection errors."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

import migrations
from tests.cli.conftest import Cli
from tests.conftest import PG_URL, _libpq_dsn


def _config(path: Path, url: str) -> Path:
    path.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return path


def test_db_check_and_current_on_a_migrated_database(cli: Cli) -> None:
    out = cli("db", "check")
    assert out.strip() == "✅ Models and migrations agree: nothing to migrate."
    out = cli("db", "current")
    assert out.splitlines()[-1].endswith("(head)")
    state = cli.json("db", "current")
    assert state["up_to_date"] is True and state["current"] == state["heads"]


def test_db_check_fails_when_models_and_database_differ(cli: Cli) -> None:
    assert cli.database is not None
    with cli.database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE stray_table (id INTEGER PRIMARY KEY)"))
    try:
        error = cli.fails("db", "check")
    finally:
        with cli.database.engine.begin() as connection:
            connection.execute(text("DROP TABLE stray_table"))
    assert error.startswith("Error: models and migrations differ: ")
    assert "stray_table" in error and "crm db revision" in error


def test_db_upgrade_then_up_to_date(bare_cli: Cli, tmp_path: Path) -> None:
    config = _config(tmp_path / "crm.toml", f"sqlite:///{tmp_path / 'fresh.db'}")
    assert "none (database not initialised" in bare_cli("--config", str(config), "db", "current")
    out = bare_cli("--config", str(config), "db", "upgrade")
    assert out.splitlines()[0] == "✅ Database upgraded."
    assert f"Database: sqlite:///{tmp_path / 'fresh.db'}" in out
    assert "(head)" in out
    again = bare_cli("--config", str(config), "db", "upgrade")
    assert again.splitlines()[0] == "✅ Database is up to date."
    bare_cli("--config", str(config), "db", "check")


def test_embedded_sqlite_is_migrated_on_first_use(
    bare_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_CONFIG", str(_config(tmp_path / "c.toml", "sqlite:///first.db")))
    assert bare_cli("customer", "list").splitlines()[-1] == "Total: 0 customers"
    assert (tmp_path / "first.db").is_file()
    assert bare_cli("db", "current").splitlines()[-1].endswith("(head)")


def test_sqlite_that_holds_other_tables_is_not_initialised(
    bare_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE something_else (id INTEGER)")
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{path}")
    error = bare_cli.fails("customer", "list")
    assert error == "Error: database not initialised: run `crm db upgrade`"


def test_migrated_database_missing_a_table_is_out_of_date(
    bare_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{path}")
    bare_cli("db", "upgrade")
    with sqlite3.connect(path) as connection:  # as if an older version had migrated it
        connection.execute("DROP TABLE customers")
    assert bare_cli.fails("customer", "list") == (
        "Error: database schema is out of date: run `crm db upgrade`"
    )


@pytest.fixture
def empty_pg_schema() -> Iterator[str]:
    """The name of a PostgreSQL schema that does not exist yet (dropped afterwards)."""
    schema = f"crm_cli_{uuid.uuid4().hex[:10]}"
    yield schema
    with psycopg.connect(_libpq_dsn(PG_URL), autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_postgresql_is_not_initialised_until_upgraded(
    bare_cli: Cli, empty_pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", PG_URL)
    monkeypatch.setenv("CRM_DATABASE_PG_SCHEMA", empty_pg_schema)
    not_initialised = "Error: database not initialised: run `crm db upgrade`"
    assert bare_cli.fails("customer", "list") == not_initialised
    assert bare_cli.fails("customer", "create", "John Doe", "john@example.com") == not_initialised

    out = bare_cli("db", "upgrade")  # creates the schema, then the tables
    assert out.splitlines()[0] == "✅ Database upgraded."
    assert f"(schema {empty_pg_schema})" in out
    bare_cli("customer", "create", "John Doe", "john@example.com")
    assert bare_cli("customer", "list").splitlines()[-1] == "Total: 1 customer"
    bare_cli("db", "check")


def test_unreachable_database_is_one_error_line(
    bare_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    error = bare_cli.fails("customer", "list")
    assert error.startswith("Error: cannot connect to the database: ")
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{Path('no/such/dir/crm.db')}")
    assert bare_cli.fails("customer", "list").startswith("Error: cannot connect to the database")


def test_configuration_errors_are_one_line(
    bare_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bare_cli.fails("--config", "missing.toml", "customer", "list") == (
        "Error: config file not found: missing.toml"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[database]\nurl = "sqlite:///x.db"\nnope = 1\n', encoding="utf-8")
    assert "database.nope: unknown key" in bare_cli.fails("--config", str(bad), "db", "current")
    monkeypatch.setenv("CRM_DATABASE_URL", "mysql://localhost/crm")
    assert "unsupported database 'mysql'" in bare_cli.fails("customer", "list")
    # --help never reads the settings.
    assert "customer" in bare_cli("--help")


def test_config_file_from_option_and_environment(
    bare_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_option = _config(tmp_path / "a.toml", f"sqlite:///{tmp_path / 'a.db'}")
    by_env = _config(tmp_path / "b.toml", f"sqlite:///{tmp_path / 'b.db'}")
    bare_cli("--config", str(by_option), "customer", "create", "A", "a@example.com")
    monkeypatch.setenv("CRM_CONFIG", str(by_env))
    bare_cli("customer", "create", "B", "b@example.com")
    assert [c["name"] for c in bare_cli.json("customer", "list")] == ["B"]
    assert [c["name"] for c in bare_cli.json("--config", str(by_option), "customer", "list")] == [
        "A"
    ]


@pytest.fixture
def scratch_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the migrations directory, so new revisions land in a temp directory."""
    copy = tmp_path / "migrations"
    shutil.copytree(
        migrations.HERE, copy, ignore=shutil.ignore_patterns("__pycache__", "__init__.py")
    )
    monkeypatch.setattr(migrations, "HERE", copy)
    return copy


def _next_number(versions: Path) -> str:
    numbers = [int(path.name[:4]) for path in versions.glob("[0-9][0-9][0-9][0-9]_*.py")]
    return f"{max(numbers) + 1:04d}"


def test_db_revision_autogenerate_and_empty(cli: Cli, scratch_migrations: Path) -> None:
    versions = scratch_migrations / "versions"
    number = _next_number(versions)
    out = cli("db", "revision", "-m", "nothing changed")
    created = versions / f"{number}_nothing_changed.py"
    assert out.splitlines()[0] == f"✅ Created revision {number}: {created}"
    assert created.is_file() and "def upgrade" in created.read_text(encoding="utf-8")
    assert "Review it, then run `crm db upgrade`." in out

    # Autogenerate needs the database at the newest revision; an empty script does not.
    assert "not up to date" in cli.fails("db", "revision", "-m", "again")
    out = cli("db", "revision", "-m", "hand written", "--empty")
    assert f"{int(number) + 1:04d}_hand_written.py" in out
