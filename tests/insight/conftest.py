from __future__ import annotations

from tests.cli import conftest as cli_fixtures

cli = cli_fixtures.cli  # `crm` in-process against the test database
