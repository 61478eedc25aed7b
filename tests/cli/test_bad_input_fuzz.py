"""Every `crm` command with generated arguments: hostile values (NaN, huge numbers,
year 1, bytes that are not UTF-8, escape sequences, malformed addresses) mixed with the
command's own options. Whatever comes, no traceback; a refusal is one ``Error:`` line
with exit code 1 or 2 and leaves the database as it was; output is terminal-safe.

The daemons and the commands that wait for a person or write files in the source tree
(``demo``, ``worker``, ``watch``, ``gmail auth``, ``db revision``) are left out: they run
until stopped when their arguments are right. Their bad arguments are in the table at
the end.
"""

from __future__ import annotations

from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer._click.core import Context

from tests.cli.conftest import Cli
from tests.cli.refusals import error_line, every_case, invoke, refused, snapshot
from tests.conftest import Database
from worker.cli.main import app

LEFT_OUT = {"demo", "worker", "watch", "gmail auth", "db revision"}
GMAIL_COMMANDS = {"sync", "audit", "replay-thread"}
HUGE = "1" + "0" * 30

HOSTILE_VALUES = [
    "NaN",
    "-Infinity",
    "-1",
    "0",
    HUGE,
    "-" + HUGE,
    "1e400",
    "nan",
    "inf",
    "1e308",
    "9999999999.995",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "31.02.2025 25:61",
    "",
    " ",
    "\udcff\udcfe",
    "caf\udce9",
    "\x1b]0;owned\x07",
    "\x1b[2J\x1b[31mred",
    "\u202eevil",
    "abc",
    "@@@",
    "a@b.dk",
    "A@B.DK",
    "+45 12 34 56 78",
    "--",
    "-",
    "-x",
    "active",
    "inactive",
    "head",
    "/nonexistent",
]


def _commands() -> dict[str, list[str]]:
    """Every leaf command's path and its option names."""
    root = typer.main.get_command(app)
    found: dict[str, list[str]] = {}

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "list_commands"):
            context = Context(command)
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name])
            return
        options = [opt for param in command.params for opt in getattr(param, "opts", [])]
        found[" ".join(path)] = [opt for opt in options if opt.startswith("-")]

    walk(root, [])
    return {path: options for path, options in found.items() if path not in LEFT_OUT}


COMMANDS = _commands()


@st.composite
def command_lines(draw: st.DrawFn, known_ids: list[str]) -> list[str]:
    path = draw(st.sampled_from(sorted(COMMANDS)))
    token = st.one_of(
        st.sampled_from(COMMANDS[path] or ["--json"]),
        st.sampled_from(HOSTILE_VALUES),
        st.sampled_from(known_ids),
        st.text(max_size=12),
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
    )
    return [*path.split(), *draw(st.lists(token, max_size=6))]


def test_the_command_table_covers_every_command() -> None:
    assert {"customer create", "quote create", "booking create", "import mbox"} <= set(COMMANDS)
    assert "ingest resume" in COMMANDS and "config check" in COMMANDS
    assert len(COMMANDS) >= 30


def test_generated_command_lines_never_end_in_a_traceback(cli: Cli, database: Database) -> None:
    customer = cli.create("Mette Hansen", "mette@example.dk")
    lead = cli.json("lead", "create", "--email", "lead@example.dk")["id"]
    quote = cli.json("quote", "create", "--total", "100", "--customer", customer)["id"]
    known_ids = [customer, lead, quote]

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(args=command_lines(known_ids))
    def check(args: list[str]) -> None:
        # A Gmail command that fails records why on the mailbox row (`crm status` shows
        # it): that is the one change a refused command makes on purpose.
        ignore = {"mailboxes"} if args[0] in GMAIL_COMMANDS else set()
        before = snapshot(database, ignore)
        result = invoke(cli, *args)  # fails on a traceback or a printed escape
        assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
        if args[0] == "status" and "--strict" in args and result.exit_code == 2:
            return  # "needs a person" (here: the last sync's error), a report, not a refusal
        if result.exit_code != 0:
            error_line(result, tuple(args))
            after = snapshot(database, ignore)
            assert after == before, f"crm {args!r} failed but changed the database"

    check()


# Bad arguments of the commands the generator leaves out: refused before they start.
LEFT_OUT_CASES = [
    (("worker", "--processes", "0"), 2),
    (("worker", "--threads", "many"), 2),
    (("worker", "--bogus"), 2),
    (("watch", "\udcff"), 2),
    (("watch", "--bogus"), 2),
    (("demo", "extra"), 2),
    (("gmail", "auth"), 2),
    (("gmail", "auth", "a@b.dk", "--port", HUGE), 2),
    (("db", "revision", "--bogus"), 2),
]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_left_out_commands_refuse_bad_arguments(cli: Cli, database: Database) -> None:
    every_case(lambda args, code: refused(cli, database, *args, code=code), LEFT_OUT_CASES)
