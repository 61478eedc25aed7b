from __future__ import annotations

import pytest

from tests.cli import conftest as cli_fixtures
from tests.conftest import Database
from worker.config import Settings, load_settings
from worker.jobs.broker import install_broker
from worker.runtime import Runtime, use_settings

cli = cli_fixtures.cli  # `crm` in-process against the test database


def settings_for(database: Database, broker_url: str = "inline", **sections: object) -> Settings:
    return load_settings(
        database={"url": database.url, "pg_schema": database.schema},
        broker={"url": broker_url},
        **sections,
    )


@pytest.fixture
def runtime(database: Database) -> Runtime:
    """Jobs run in-process (inline broker) against the test database."""
    settings = settings_for(database)
    runtime = use_settings(settings)
    install_broker(settings)
    return runtime
