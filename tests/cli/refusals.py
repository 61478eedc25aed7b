"""What every refused command line must look like to a user.

No traceback, exit code 1 (the input) or 2 (the command line), exactly one line on
stderr that starts with ``Error:`` and names what is wrong, nothing a terminal would
obey in the output, and the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import select
from typer.testing import Result

from crm_core.models import Base
from tests.cli.conftest import Cli
from tests.conftest import Database
from worker.cli.main import app

TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b", "\x9d")


def snapshot(database: Database, ignore: Collection[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but those in ``ignore``), in a stable order."""
    with database.sessions() as session:
        return {
            table.name: sorted(
                (tuple(row) for row in session.execute(select(table))),
                key=repr,
            )
            for table in Base.metadata.sorted_tables
            if table.name not in ignore
        }


def invoke(cli: Cli, *args: str) -> Result:
    """Run ``crm args`` in-process; a traceback (any exception but an exit) fails."""
    result = cli.runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"crm {args!r} raised {result.exception!r}") from result.exception
    assert "Traceback" not in result.output
    for control in TERMINAL_CONTROLS:
        assert control not in result.stdout, f"crm {args!r} printed {control!r}"
        assert control not in result.stderr, f"crm {args!r} printed {control!r}"
    return result


def error_line(result: Result, args: tuple[str, ...]) -> str:
    """The single ``Error:`` line of a failed command."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"crm {args!r} wrote {result.stderr!r}"
    assert lines[0].startswith("Error: "), lines[0]
    return lines[0]


def refused(cli: Cli, database: Database | None, *args: str, code: int = 1) -> str:
    """Run a command that must be refused; returns its error line."""
    before = snapshot(database) if database is not None else None
    result = invoke(cli, *args)
    assert result.exit_code == code, (
        f"crm {args!r} exited {result.exit_code}:\n{result.stdout}\n{result.stderr}"
    )
    line = error_line(result, args)
    if database is not None:
        assert snapshot(database) == before, f"crm {args!r} changed the database"
    return line


def every_case(check: Callable[..., None], cases: Sequence[tuple[Any, ...]]) -> None:
    """Run ``check(*case)`` for every case of a table and report all that fail at once
    (one test per table keeps the database set up once, not once per row)."""
    failures = []
    for case in cases:
        try:
            check(*case)
        except AssertionError as exc:
            failures.append(f"{case!r}:\n  {exc}")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)
