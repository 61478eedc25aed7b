"""``crm resident status|stop``: the resident command server of this install."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer

from worker.cli.context import CliError
from worker.cli.output import (
    JsonFlag,
    block,
    emit,
    format_datetime,
    print_json,
    printable,
    success,
)
from worker.cli.resident import client, paths
from worker.cli.resident.availability import platform_supports_resident, resident_enabled

app = typer.Typer(no_args_is_help=True)

STOP_WAIT_SECONDS = 60.0


def _mode() -> str:
    if not platform_supports_resident():
        return "not available on this platform"
    return "on" if resident_enabled() else "off (CRM_RESIDENT=0)"


def _check_directory() -> None:
    try:
        paths.checked_directory(create=False)
    except paths.UnsafeDirectoryError as exc:
        raise CliError(f"the resident server's directory is unsafe: {exc}") from exc


@app.command("status")
def status(as_json: JsonFlag = False) -> None:
    """Whether a resident server runs for this install: pid, since when, commands
    served, memory."""
    _check_directory()
    answer = client.ask({"status": True})
    facts = answer[0] if answer else None
    if answer:
        answer[1].close()
    last_exit = _last_exit()
    if as_json:
        found = {"mode": _mode(), "running": facts is not None, **(facts or {})}
        print_json({**found, "last_exit": last_exit})
        return
    ended = []
    if last_exit is not None:
        when = format_datetime(datetime.fromtimestamp(float(last_exit["ended"]), UTC))
        ended = [("Last ended", f"{when}: {printable(str(last_exit['reason']))}")]
    if facts is None:
        emit(block("Resident server", [("State", "not running"), ("Mode", _mode()), *ended]))
        return
    started = datetime.fromtimestamp(float(facts["started"]), UTC)
    emit(
        block(
            "Resident server",
            [
                ("State", "running"),
                ("Mode", _mode()),
                ("PID", str(facts["pid"])),
                ("Since", format_datetime(started)),
                ("Served", f"{facts['served']} commands ({facts['commands_running']} running)"),
                ("CPU", f"{float(facts['commands_cpu']):.1f} s in ended commands"),
                ("Memory", f"{int(facts['memory']) / (1024 * 1024):.0f} MB resident"),
                ("Socket", str(facts["socket"])),
                *ended,
            ],
        )
    )


def _last_exit() -> dict[str, Any] | None:
    """Why the last server of this install ended, if one did."""
    directory = paths.runtime_directory()
    try:
        facts = json.loads(paths.last_exit_path(directory).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return facts if isinstance(facts, dict) and "reason" in facts else None


@app.command("stop")
def stop() -> None:
    """Stop the resident server of this install (commands it runs finish first)."""
    _check_directory()
    answer = client.ask({"stop": True})
    if answer is None:
        emit(success("No resident server was running"))
        return
    reply, conn = answer
    # The server keeps this connection open until it exits.
    conn.settimeout(STOP_WAIT_SECONDS)
    try:
        while conn.recv(64):
            pass
    except TimeoutError as exc:
        raise CliError(
            f"the resident server is still finishing {reply.get('commands_running', 0)} commands"
        ) from exc
    finally:
        conn.close()
    emit(success("Resident server stopped"))
