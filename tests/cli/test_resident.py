"""The resident command server (worker/cli/resident): the real `crm` executable, on an
SQLite file, with a server of the test's own (CRM_RUNTIME_DIR), stopped at the end.

What a served command prints and how it exits must be what the same command prints
and how it exits in-process (CRM_RESIDENT=0): both are run and compared.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from worker.cli import launcher
from worker.cli.main import COMMANDS

# One xdist worker runs them all, one after another (scripts/test: --dist loadfile): the
# stale-code test changes a source file's time, which would make a server of this file
# running on another worker step aside. No other test file starts a server
# (tests/conftest.py sets CRM_RESIDENT=0, and refuses a --dist that splits a file).

CRM = Path(sys.executable).with_name("crm")
WAIT_SECONDS = 90.0  # for a server to start or go, on a busy machine; never asserted on


class Resident:
    """`crm` calls with the resident server on, in a runtime directory of their own."""

    def __init__(self, runtime: Path, home: Path) -> None:
        self.runtime = runtime
        self.home = home
        base = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        self.env = {
            **base,
            "CRM_RESIDENT": "1",
            "CRM_RUNTIME_DIR": str(runtime),
            "CRM_DATABASE_URL": f"sqlite:///{home / 'crm.db'}",
        }

    def run(
        self,
        *args: str,
        resident: bool = True,
        cwd: Path | None = None,
        stdin: bytes = b"",
        **env: str,
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(CRM), *args],
            cwd=cwd or self.home,
            env={**self.env, "CRM_RESIDENT": "1" if resident else "0", **env},
            input=stdin,
            capture_output=True,
            timeout=120,
            check=False,
        )

    def status(self) -> dict[str, Any]:
        done = self.run("resident", "status", "--json")
        assert done.returncode == 0, done.stderr
        facts: dict[str, Any] = json.loads(done.stdout)
        return facts

    def sockets(self) -> list[Path]:
        return sorted(self.runtime.glob("server-*.sock"))

    def wait_for_server(self, other_than: int | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.sockets():
                facts = self.status()
                if facts["running"] and facts["pid"] != other_than:
                    return facts
            time.sleep(0.05)
        raise AssertionError("no resident server started")

    def last_exit(self, pid: int | None = None) -> dict[str, Any]:
        """Why the last server (``pid``, if given) ended, once it has written it."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            ended = self.status()["last_exit"]
            if ended is not None and pid in (None, ended["pid"]):
                return dict(ended)
            time.sleep(0.05)
        raise AssertionError("no server recorded why it ended")

    def wait_until_gone(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while self.sockets() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not self.sockets()

    def _served(self, *args: str, stdin: bytes) -> tuple[subprocess.CompletedProcess[bytes], bool]:
        """One served call, and whether the same server counted it."""
        before = self.wait_for_server()
        done = self.run(*args, stdin=stdin)
        after = self.status()
        counted = after.get("pid") == before["pid"] and after["served"] == before["served"] + 1
        return done, counted

    def same_in_process(self, *args: str, stdin: bytes = b"", code: int = 0) -> bytes:
        """Run ``args`` served and in-process: the same stdout, stderr and exit code.
        Returns stdout. The served run is checked to be served (count + 1 on the same
        server). ``args`` must change nothing: the served call may be made twice."""
        served, counted = self._served(*args, stdin=stdin)
        if not counted:
            # Twice in CI, under load, the server was gone or replaced around one
            # call (cause not found): the call is made again, and must be served.
            served, counted = self._served(*args, stdin=stdin)
        assert counted, f"not served by the server: {self.status()}"
        alone = self.run(*args, stdin=stdin, resident=False)
        assert served.returncode == alone.returncode == code, served.stderr
        assert served.stdout == alone.stdout
        assert served.stderr == alone.stderr
        return served.stdout

    def stop(self) -> None:
        self.run("resident", "stop")


@pytest.fixture
def resident(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resident]:
    # A short directory: a socket's path is limited to ~100 bytes.
    runtime = tmp_path_factory.mktemp("rt")
    runtime.chmod(0o700)
    calls = Resident(runtime, tmp_path)
    try:
        yield calls
    finally:
        calls.stop()
        for key in {path.stem for path in calls.sockets()}:  # started since, or stuck
            calls.stop()
            assert not (runtime / f"{key}.sock").exists(), "a server was left running"


def test_first_call_runs_in_process_then_the_server_answers(resident: Resident) -> None:
    assert resident.status()["running"] is False
    created = resident.run("customer", "create", "Mette Hansen", "mette@example.dk")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("✅ Customer created".encode())
    facts = resident.wait_for_server()  # started by that first call, for the next
    assert facts["served"] == 0
    assert facts["mode"] == "on"
    assert facts["memory"] > 0

    out = resident.same_in_process("customer", "get", "mette@example.dk")
    assert b"Mette Hansen" in out
    resident.same_in_process("customer", "list")
    resident.same_in_process("--help")
    # A one-line error (exit 1) and a usage error (exit 2).
    resident.same_in_process("customer", "get", "nobody@example.dk", code=1)
    resident.same_in_process("customer", "frobnicate", code=2)
    resident.same_in_process("customer", "get", code=2)
    assert resident.status()["served"] == 6


def test_environment_reaches_the_command(resident: Resident) -> None:
    resident.run("--help")
    resident.wait_for_server()
    # Read by Typer at import, so re-read in the child.
    resident.same_in_process("customer", "--help", stdin=b"")
    before = resident.status()["served"]
    narrow = resident.run("customer", "--help", TERMINAL_WIDTH="50")
    wide = resident.run("customer", "--help", TERMINAL_WIDTH="120")
    assert narrow.stdout != wide.stdout
    alone = resident.run("customer", "--help", resident=False, TERMINAL_WIDTH="50")
    assert narrow.stdout == alone.stdout
    assert resident.status()["served"] == before + 2


def test_standard_input_reaches_the_command(resident: Resident) -> None:
    resident.run("--help")
    resident.wait_for_server()
    err = resident.run("reply", "no-such-conversation", "--body-file", "-", stdin=b"\xff\xfe")
    assert b"not UTF-8" in err.stderr
    resident.same_in_process(
        "reply", "no-such-conversation", "--body-file", "-", stdin=b"\xff\xfe", code=1
    )
    resident.same_in_process(
        "reply", "no-such-conversation", "--body-file", "-", stdin=b"Hej", code=1
    )


def test_each_call_has_its_own_directory_and_database(resident: Resident, tmp_path: Path) -> None:
    resident.run("--help")
    resident.wait_for_server()
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    relative = {"CRM_DATABASE_URL": "sqlite:///crm.db"}  # a file in the working directory
    for where, name in ((first, "Anna"), (second, "Bo")):
        email = f"{name.lower()}@x.dk"
        done = resident.run("customer", "create", name, email, cwd=where, **relative)
        assert done.returncode == 0, done.stderr
    assert (first / "crm.db").is_file() and (second / "crm.db").is_file()
    listed = {}
    for where in (first, second):
        done = resident.run("customer", "list", "--json", cwd=where, **relative)
        listed[where.name] = [customer["name"] for customer in json.loads(done.stdout)]
    assert listed == {"first": ["Anna"], "second": ["Bo"]}
    now = resident.status()
    assert now["served"] == 4, now  # with last_exit: why an earlier server ended


def test_a_changed_source_file_makes_the_server_step_aside(resident: Resident) -> None:
    resident.run("customer", "create", "Mette Hansen", "mette@example.dk")
    old = resident.wait_for_server()
    source = Path(launcher.__file__).with_name("output.py")  # imported by the server
    facts = source.stat()
    try:
        os.utime(source, ns=(facts.st_atime_ns, facts.st_mtime_ns + 10**9))
        # Refused before anything ran: the command runs in-process, once.
        done = resident.run("customer", "create", "Bo Jensen", "bo@example.dk")
        assert done.returncode == 0, done.stderr
    finally:
        os.utime(source, ns=(facts.st_atime_ns, facts.st_mtime_ns))
    now = resident.status()
    assert not now["running"] or now["pid"] != old["pid"]
    assert resident.last_exit(old["pid"])["reason"] == f"code changed: {source}"
    listed = json.loads(resident.run("customer", "list", "--json", resident=False).stdout)
    assert sorted(c["name"] for c in listed) == ["Bo Jensen", "Mette Hansen"]


def test_an_idle_server_exits(resident: Resident) -> None:
    # The server takes its idle time from the environment of the call that started it.
    resident.run("--help", CRM_RESIDENT_IDLE="1")
    deadline = time.monotonic() + WAIT_SECONDS
    while not resident.sockets() and time.monotonic() < deadline:
        time.sleep(0.01)  # it starts ...
    resident.wait_until_gone()  # ... and, idle for a second, goes by itself
    assert resident.status()["running"] is False
    assert resident.last_exit()["reason"] == "idle"


def test_ctrl_c_reaches_the_running_command(resident: Resident) -> None:
    resident.run("--help")
    resident.wait_for_server()
    # The command waits for its body on standard input, which stays open.
    process = subprocess.Popen(
        [str(CRM), "reply", "c-1", "--body-file", "-"],
        cwd=resident.home,
        env=resident.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + WAIT_SECONDS
    while resident.status()["commands_running"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends the launcher
    _, err = process.communicate(timeout=120)
    # As in-process: Typer ends an interrupted command quietly with exit code 130.
    assert process.returncode == 130
    assert err == b""
    assert resident.status()["commands_running"] == 0
    assert resident.status()["served"] == 1


def test_crm_resident_stop_ends_the_server(resident: Resident) -> None:
    resident.run("--help")
    resident.wait_for_server()
    done = resident.run("resident", "stop")
    assert done.returncode == 0 and b"Resident server stopped" in done.stdout
    assert not resident.sockets()
    now = resident.status()
    assert now["running"] is False
    assert now["last_exit"]["reason"] == "crm resident stop"
    assert "crm resident stop" in resident.run("resident", "status").stdout.decode()
    again = resident.run("resident", "stop")
    assert b"No resident server was running" in again.stdout


def test_services_and_the_server_commands_run_in_process() -> None:
    for name in launcher.IN_PROCESS_COMMANDS:
        assert name in COMMANDS
    assert launcher.runs_in_process(["worker"])
    assert launcher.runs_in_process(["--config", "x.toml", "watch", "--once"])
    assert launcher.runs_in_process(["gmail", "auth", "a@b.dk"])
    assert launcher.runs_in_process(["resident", "status"])
    assert launcher.runs_in_process(["--install-completion"])
    assert not launcher.runs_in_process(["customer", "list"])
    assert not launcher.runs_in_process(["--config", "worker", "customer", "list"])
    assert not launcher.runs_in_process(["gmail", "status"])


def test_the_launcher_imports_nothing_heavy() -> None:
    probe = (
        "import sys, worker.cli.launcher, worker.cli.resident.client; "
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'typer', 'rich', 'sqlalchemy', 'pydantic', 'pydantic_settings', 'click'})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""


def test_the_server_forks_without_threads_settings_or_engines() -> None:
    probe = (
        "import threading; from worker.cli.resident import server; server.preload(); "
        "from worker import database; from worker.cli import context; "
        "from worker.config import Settings; "
        "print(threading.active_count(), database._engine.cache_info().currsize, "
        "len(context._prepared), Settings._toml_file)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["1", "0", "0", "None"]


def test_no_server_is_started_where_its_socket_path_would_be_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.cli.resident import client, paths

    runtime = tmp_path / ("r" * 100)
    monkeypatch.setenv("CRM_RUNTIME_DIR", str(runtime))
    assert paths.usable_socket_path(runtime) is None
    client.start_server()
    time.sleep(3)  # a started server would have taken its lock by now
    assert not list(runtime.glob("server-*"))
