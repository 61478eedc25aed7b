"""Test databases: the real PostgreSQL and SQLite, schema built by the migrations.

PostgreSQL comes from CRM_TEST_DATABASE_URL (default: the local ``test`` database).
Each test process gets its own schema, migrated once; tables are emptied after each
test. SQLite gets a fresh file per test, copied from a migrated template. A missing
PostgreSQL is an error, never a skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import make_engine, make_session_factory
from crm_core.models import Base
from migrations import upgrade

# No test leaves a resident command server behind (worker/cli/resident): the `crm`
# executables the tests start run their commands in-process, as `python -m
# worker.cli.main` does. tests/cli/test_resident.py turns it on for its own calls.
os.environ["CRM_RESIDENT"] = "0"

# Each test file runs on one worker (tests/cli/test_resident.py changes a source file's
# time, which would make a server of its own on another worker step aside).
FILE_KEEPING_DISTRIBUTIONS = ("loadfile", "loadscope")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("numprocesses", None):  # the xdist controller, not a worker
        dist = config.getoption("dist")
        if dist not in FILE_KEEPING_DISTRIBUTIONS:
            raise pytest.UsageError(f"with -n, run with --dist loadfile (not {dist})")


PG_URL = os.environ.get(
    "CRM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Database:
    """One migrated, empty database for a test."""

    kind: str  # "postgresql" or "sqlite"
    url: str
    schema: str | None
    engine: Engine
    sessions: sessionmaker[Session]

    def env(self) -> dict[str, str]:
        """Environment variables that point a `crm` process at this database."""
        env = {"CRM_DATABASE_URL": self.url}
        if self.schema:
            env["CRM_DATABASE_PG_SCHEMA"] = self.schema
        return env


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _libpq_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _drop_abandoned_schemas(connection: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Schemas left by killed test runs on this machine: their process is gone."""
    rows = connection.execute(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'crm_test_%'"
    ).fetchall()
    for (name,) in rows:
        pid = str(name).split("_")[-2]
        if pid.isdigit() and not _alive(int(pid)):
            connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A schema of our own in the test database, migrated to head, dropped at the end.

    Named after the test process and a random suffix, so that runs at the same time
    on one database never see (or truncate) each other's rows.
    """
    schema = f"crm_test_{_worker_id()}_{os.getpid()}_{secrets.token_hex(3)}"
    dsn = _libpq_dsn(PG_URL)
    with psycopg.connect(dsn, autocommit=True) as connection:
        _drop_abandoned_schemas(connection)
        connection.execute(f'CREATE SCHEMA "{schema}"')
    upgrade(PG_URL, schema=schema)
    yield schema
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def pg_database(pg_schema: str) -> Iterator[Database]:
    engine = make_engine(PG_URL, schema=pg_schema)
    database = Database("postgresql", PG_URL, pg_schema, engine, make_session_factory(engine))
    try:
        yield database
    finally:
        _truncate_all(engine)
        engine.dispose()


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "crm.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    yield Database("sqlite", url, None, engine, make_session_factory(engine))
    engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest) -> Database:
    """Runs the test once on PostgreSQL and once on SQLite."""
    fixture = "pg_database" if request.param == "postgresql" else "sqlite_database"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session whose work is committed by the test when it calls commit()."""
    with database.sessions() as session:
        yield session
