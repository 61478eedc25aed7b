"""The resident command server: ``python -m worker.cli.resident.server``.

Started in the background by the launcher (worker/cli/launcher.py). It imports what
the everyday commands use, then listens on this install's socket; per command it
forks a child (worker/cli/resident/child.py) and tells the caller the child's pid
and, in the end, its exit status. Before forking it has opened no database
connection, read no settings and started no thread: settings and engines are made
by each child, for its caller's environment.

One server per install: it holds a lock (flock) on a file next to its socket while
it listens. It retires (stops listening, releases socket and lock, exits once its
running commands have ended) when its code on disk changed, when it was idle for
``CRM_RESIDENT_IDLE`` seconds (default 600), on ``crm resident stop`` and on SIGTERM.
It logs nothing: the environment, arguments and output of commands never pass
through it. As it ends it leaves why (idle, stopped, a changed file's path, a failure)
for ``crm resident status``.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from worker.cli.resident import child, freshness, paths, protocol
from worker.private_file import write_secret_file

# What the everyday commands import (customer, lead, conversation, search, report,
# quote, booking), and the libraries under them; the rest load in the child.
PRELOADED = (
    "typer",
    "typer._adapters",
    "typer._click.decorators",
    "typer._click._textwrap",
    "typer.rich_utils",  # help and usage errors, with the Rich modules it loads for them
    "rich._emoji_codes",
    "rich.columns",
    "rich.console",
    "rich.markdown",
    "rich.panel",
    "rich.rule",
    "rich.table",
    "rich.text",
    "rich.traceback",
    "sqlite3",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "psycopg",
    "sqlalchemy.dialects.postgresql.psycopg",
    "pydantic_settings",
    "babel.dates",
    "babel.localtime",
    "babel.numbers",
    "crm_core.models",
    "crm_core.customers.merge",
    "crm_core.notes",
    "worker.config",
    "worker.database",
    "worker.cli.main",
    "worker.cli.output",
)
# Commands whose Typer groups are built before forking (the preloaded modules'):
PREBUILT_COMMANDS = ("customer", "search", "conversation", "lead", "quote", "booking", "report")
DEFAULT_IDLE_SECONDS = 600.0
REQUEST_TIMEOUT_SECONDS = 10.0
PEER_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def idle_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("CRM_RESIDENT_IDLE", DEFAULT_IDLE_SECONDS)))
    except ValueError:
        return DEFAULT_IDLE_SECONDS


def take_lock(directory: Path) -> int | None:
    """The lock's descriptor, or None when another server of this install holds it."""
    fd = os.open(paths.lock_path(directory), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def peer_uid(conn: socket.socket) -> int:
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEER_CREDENTIALS.size)
    return int(PEER_CREDENTIALS.unpack(raw)[1])


def resident_memory() -> int:
    """Bytes of memory resident now (the peak where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Server:
    def __init__(self, directory: Path, lock_fd: int, sources: freshness.SourceSnapshot) -> None:
        self.lock_fd: int | None = lock_fd
        self.sources = sources
        self.idle = idle_seconds()
        self.path = paths.socket_path(directory)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a server that died; we hold the lock
        self.listener: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(os.fspath(self.path))
        os.chmod(self.path, 0o600)
        self.socket_inode = os.stat(self.path).st_ino
        self.listener.listen(64)
        self.wakeup_reader, self.wakeup_writer = socket.socketpair()
        self.wakeup_reader.setblocking(False)
        self.wakeup_writer.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        self.selector.register(self.wakeup_reader, selectors.EVENT_READ, self._drain_wakeup)
        self.children: dict[int, socket.socket | None] = {}  # pid → its caller
        self.waiting_for_exit: list[socket.socket] = []  # `crm resident stop` callers
        self.started = time.time()
        self.last_active = time.monotonic()
        self.served = 0
        self.commands_cpu = 0.0  # seconds of CPU the ended commands used
        self.retiring = False
        self.retired_because = ""
        self.terminated = False  # SIGTERM: retire as soon as the loop sees it
        signal.set_wakeup_fd(self.wakeup_writer.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    # --- the loop ----------------------------------------------------------------

    def serve(self) -> None:
        while not (self.retiring and not self.children):
            timeout = None if self.children or self.retiring else self._idle_left()
            for key, _ in self.selector.select(timeout):
                key.data(key.fileobj)
            self._reap()
            if self.terminated:
                self.retire("SIGTERM")
            if not self.children and not self.retiring and self._idle_left() <= 0:
                self.retire("idle")

    def _idle_left(self) -> float:
        return self.idle - (time.monotonic() - self.last_active)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGTERM:
            self.terminated = True

    def _drain_wakeup(self, _: Any) -> None:
        with contextlib.suppress(BlockingIOError):
            while self.wakeup_reader.recv(512):
                pass

    # --- requests ----------------------------------------------------------------

    def _accept(self, _: Any) -> None:
        if self.listener is None:
            return
        try:
            conn, _address = self.listener.accept()
        except OSError:
            return
        self.last_active = time.monotonic()
        fds: list[int] = []
        try:
            conn.settimeout(REQUEST_TIMEOUT_SECONDS)
            if peer_uid(conn) != os.getuid():
                conn.close()
                return
            request, fds = protocol.receive_with_fds(conn, len(protocol.STANDARD_FDS))
            if "run" in request:
                self._run(conn, request["run"], fds)
            elif "status" in request:
                protocol.send(conn, self.status())
                conn.close()
            elif "stop" in request:
                self.retire("crm resident stop")
                protocol.send(conn, {"stopping": True, "commands_running": len(self.children)})
                self.waiting_for_exit.append(conn)  # closed when this process ends
            else:
                conn.close()
        except (OSError, protocol.ProtocolError):
            conn.close()
        finally:
            protocol.close_all(fds)

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "started": self.started,
            "served": self.served,
            "commands_running": len(self.children),
            "commands_cpu": self.commands_cpu,
            "memory": resident_memory(),
            "socket": os.fspath(self.path),
        }

    def _refusal(self, request: dict[str, Any], fds: list[int]) -> str | None:
        if self.retiring:
            return "retiring"
        if len(fds) != len(protocol.STANDARD_FDS):
            return "descriptors missing"
        if not os.path.isdir(request.get("cwd", "")):
            return "no such working directory"
        changed = self.sources.changed()
        if changed is not None:
            self.retire(f"code changed: {changed}")
            return "code changed"
        return None

    def _run(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        refusal = self._refusal(request, fds)
        if refusal is not None:
            protocol.send(conn, {"refused": refusal})
            conn.close()
            return
        protocol.send(conn, {"accepted": True})  # from here on the command is ours
        # The child starts with the signals its caller forwards blocked: the server's
        # own handlers must not take them (worker/cli/resident/child.py).
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, protocol.FORWARDED_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                child.run(request, fds, [*self._descriptors(), conn.fileno()])
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self.served += 1
        self.children[pid] = conn
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # also done by the child: whichever comes first
        try:
            protocol.send(conn, {"pid": pid})
            conn.settimeout(None)
            self.selector.register(conn, selectors.EVENT_READ, self._caller_left)
        except OSError:
            self._hang_up(pid)

    def _descriptors(self) -> list[int]:
        """What a child must not keep: every descriptor of the server's own."""
        owned = [self.wakeup_reader.fileno(), self.wakeup_writer.fileno()]
        if self.listener is not None:
            owned.append(self.listener.fileno())
        if self.lock_fd is not None:
            owned.append(self.lock_fd)
        owned += [conn.fileno() for conn in self.children.values() if conn is not None]
        owned += [conn.fileno() for conn in self.waiting_for_exit]
        owned.append(getattr(self.selector, "fileno", lambda: -1)())
        return [fd for fd in owned if fd >= 0]

    def _caller_left(self, conn: Any) -> None:
        """The caller's connection closed (killed with SIGKILL): as if its terminal
        had closed, the command gets SIGHUP."""
        try:
            data = conn.recv(64)
        except OSError:
            data = b""
        if data:
            return
        for pid, caller in self.children.items():
            if caller is conn:
                self._hang_up(pid)
                break

    def _hang_up(self, pid: int) -> None:
        caller = self.children.get(pid)
        if caller is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(caller)
            caller.close()
        self.children[pid] = None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGHUP)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            caller = self.children.pop(pid, None)
            self.last_active = time.monotonic()
            self.commands_cpu += usage.ru_utime + usage.ru_stime
            if caller is None:
                continue
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(caller)
            code = os.waitstatus_to_exitcode(status)
            outcome = {"signal": -code} if code < 0 else {"exit": code}
            with contextlib.suppress(OSError):
                protocol.send(caller, outcome)
            caller.close()

    # --- the end -----------------------------------------------------------------

    def retire(self, reason: str) -> None:
        """Stop taking commands: the socket goes (if it is still ours), the lock is
        released so that a new server can start; running commands finish."""
        if self.retiring:
            return
        self.retiring = True
        self.retired_because = reason
        if self.listener is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(self.listener)
            with contextlib.suppress(OSError):
                if os.stat(self.path).st_ino == self.socket_inode:
                    self.path.unlink()
            self.listener.close()
            self.listener = None
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def preload() -> None:
    for name in PRELOADED:
        importlib.import_module(name)
    # Work every command would repeat, none of it touching settings or a database:
    # the ORM's mappers, and Babel's data for the default display locale.
    from babel.numbers import format_decimal
    from rich.cells import cell_len
    from sqlalchemy.orm import configure_mappers

    from worker.cli import display
    from worker.cli.lazy import prebuild
    from worker.cli.main import COMMANDS

    configure_mappers()
    format_decimal(1, locale=display.DEFAULT_LOCALE)
    cell_len("漢")  # loads Rich's table of character widths
    for name in PREBUILT_COMMANDS:
        prebuild(name, COMMANDS[name])  # Typer's reading of the commands' signatures


def main() -> None:
    os.chdir("/")  # hold no directory of the caller's
    try:
        directory = paths.checked_directory(create=True)
    except (OSError, paths.UnsafeDirectoryError):
        return
    if directory is None or paths.usable_socket_path(directory) is None:
        return
    lock_fd = take_lock(directory)
    if lock_fd is None:
        return  # another server of this install runs, or is starting
    sources = freshness.snapshot()  # before the imports: see worker/cli/resident/freshness.py
    preload()
    sources.add_loaded_modules()
    server = Server(directory, lock_fd, sources)
    try:
        server.serve()
    except BaseException as exc:
        record_exit(directory, f"failed: {type(exc).__name__}: {exc}")
        raise
    record_exit(directory, server.retired_because)
    sys.exit(0)


def record_exit(directory: Path, reason: str) -> None:
    """Leave why this server ended for `crm resident status` (a reason and a path at
    most: nothing of any command)."""
    facts = {"pid": os.getpid(), "ended": time.time(), "reason": reason}
    with contextlib.suppress(OSError):
        write_secret_file(paths.last_exit_path(directory), json.dumps(facts))


if __name__ == "__main__":
    main()
