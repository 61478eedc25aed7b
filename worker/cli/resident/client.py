"""The launcher's side: hand a command to the server, or start a server.

Standard library only (the launcher imports this before it knows whether it will
need Typer or SQLAlchemy at all).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from worker.cli.resident import paths, protocol

SERVER_MODULE = "worker.cli.resident.server"


class NotHandedOverError(Exception):
    """No server took the command: nothing ran, the launcher runs it itself.
    ``start_server`` says whether a new server would help next time."""

    def __init__(self, reason: str, start_server: bool = False) -> None:
        super().__init__(reason)
        self.start_server = start_server


def _socket_path() -> Path | None:
    try:
        directory = paths.checked_directory(create=False)
    except paths.UnsafeDirectoryError:
        return None
    if directory is None:
        return None
    return paths.usable_socket_path(directory)


def connect() -> socket.socket | None:
    """A connection to this install's server, or None when none listens."""
    path = _socket_path()
    if path is None:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(os.fspath(path))
    except OSError:
        sock.close()
        return None
    return sock


def _stream_facts(stream: Any) -> dict[str, Any]:
    return {
        "encoding": getattr(stream, "encoding", None) or "utf-8",
        "errors": getattr(stream, "errors", None) or "strict",
        "line_buffering": bool(getattr(stream, "line_buffering", False)),
        "write_through": bool(getattr(stream, "write_through", False)),
    }


def run_request(argv: list[str]) -> dict[str, Any]:
    umask = os.umask(0)
    os.umask(umask)
    return {
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": umask,
        "streams": [_stream_facts(s) for s in (sys.stdin, sys.stdout, sys.stderr)],
    }


class SignalForwarder:
    """While the command runs elsewhere, the signals the user sends this process
    (Ctrl-C, a closed terminal, kill) go to the command's process group."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.pending: list[int] = []
        self.previous = {
            sig: signal.signal(sig, self._on_signal) for sig in protocol.FORWARDED_SIGNALS
        }

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.pid is None:
            self.pending.append(signum)
        else:
            _signal_group(self.pid, signum)

    def attach(self, pid: int) -> None:
        self.pid = pid
        for signum in self.pending:
            _signal_group(pid, signum)
        self.pending.clear()

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:  # the child has not made its group yet, or has ended
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    except PermissionError:
        pass


def run_by_server(argv: list[str]) -> int:
    """Run ``argv`` in a forked child of the server; its exit code (128 + the signal
    for a child killed by one). Raises NotHandedOverError when no server took it."""
    sock = connect()
    if sock is None:
        raise NotHandedOverError("no server", start_server=True)
    forwarder = SignalForwarder()
    try:
        try:
            protocol.send(sock, {"run": run_request(argv)}, list(protocol.STANDARD_FDS))
            first = protocol.receive(sock)
        except (OSError, protocol.ProtocolError) as exc:
            raise NotHandedOverError("not accepted") from exc
        if "accepted" not in first:
            raise NotHandedOverError(str(first.get("refused", "refused")), start_server=True)
        return _outcome(sock, forwarder)
    except NotHandedOverError:
        forwarder.restore()
        for signum in forwarder.pending:  # an interrupt before anything ran
            signal.raise_signal(signum)
        raise
    finally:
        forwarder.restore()
        sock.close()


def _outcome(sock: socket.socket, forwarder: SignalForwarder) -> int:
    try:
        while True:
            message = protocol.receive(sock)
            if "pid" in message:
                forwarder.attach(int(message["pid"]))
            elif "exit" in message:
                return int(message["exit"])
            elif "signal" in message:
                return 128 + int(message["signal"])
    except (OSError, protocol.ProtocolError):
        # The command was handed over, so it is not run again here: its outcome is
        # unknown (the server died, which a command's own failure never causes).
        sys.stderr.write("Error: the resident command server stopped before the command ended\n")
        return 1


def ask(request: dict[str, Any]) -> tuple[dict[str, Any], socket.socket] | None:
    """A control request (status, stop): the reply and the open connection, or None
    when no server listens."""
    sock = connect()
    if sock is None:
        return None
    try:
        protocol.send(sock, request)
        return protocol.receive(sock), sock
    except (OSError, protocol.ProtocolError):
        sock.close()
        return None


def start_server() -> None:
    """Start a server in the background, detached from this terminal and session, and
    do not wait for it: it listens once it has imported the everyday commands."""
    try:
        directory = paths.checked_directory(create=True)
    except (OSError, paths.UnsafeDirectoryError):
        return
    if directory is None or paths.usable_socket_path(directory) is None:
        return
    devnull = os.devnull
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, devnull, os.O_WRONLY, 0),
    ]
    with contextlib.suppress(OSError):
        # -P: the server's directory ("/") is not on its import path.
        os.posix_spawn(
            sys.executable,
            [sys.executable, "-P", "-m", SERVER_MODULE],
            os.environ,
            file_actions=actions,
            setsid=True,
        )
