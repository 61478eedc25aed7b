"""Messages between the launcher and the server: a 4-byte length, then JSON.

Requests (launcher → server):

- ``{"run": {"argv": [...], "cwd": ..., "env": {...}, "umask": n, "streams": [...]}}``
  with the caller's file descriptors 0, 1 and 2 attached (SCM_RIGHTS) to the length;
  ``streams`` has the encoding, errors and buffering of the caller's sys.stdin,
  sys.stdout and sys.stderr, which the child rebuilds its own from.
- ``{"status": true}`` and ``{"stop": true}``.

Replies (server → launcher), in this order for a run:

- ``{"refused": reason}``: nothing was started; the launcher runs the command itself.
- ``{"accepted": true}``: sent before the fork; from here on the command belongs to
  the server, and the launcher never runs it a second time.
- ``{"pid": n}``: the child, to which the launcher forwards SIGINT, SIGTERM, SIGHUP.
- ``{"exit": code}`` or ``{"signal": n}``: how the child ended.

Text (argv, environment, paths) is sent as Python decoded it (surrogate escapes kept:
``json.dumps`` writes lone surrogates as ``\\udcXX`` and reads them back). Standard
library only: the launcher imports this.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
from typing import Any

HEADER = struct.Struct("!I")
MAX_MESSAGE = 16 * 1024 * 1024  # an environment is large, but not this large
STANDARD_FDS = (0, 1, 2)
# What the caller passes on to the running command (and the server keeps off itself).
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ProtocolError(Exception):
    """The other side closed the connection or sent something that is not a message."""


def _encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return HEADER.pack(len(body)) + body


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = _encode(message)
    if fds:
        # The descriptors ride on the length; the body follows as ordinary bytes.
        sent = socket.send_fds(sock, [data[: HEADER.size]], fds)
        sock.sendall(data[sent:])
    else:
        sock.sendall(data)


def _exactly(sock: socket.socket, count: int, start: bytes = b"") -> bytes:
    data = bytearray(start)
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ProtocolError("connection closed")
        data += chunk
    return bytes(data)


def _decode(sock: socket.socket, header: bytes) -> dict[str, Any]:
    (length,) = HEADER.unpack(_exactly(sock, HEADER.size, header))
    if length > MAX_MESSAGE:
        raise ProtocolError("message too large")
    try:
        message = json.loads(_exactly(sock, length))
    except ValueError as exc:
        raise ProtocolError("not a message") from exc
    if not isinstance(message, dict):
        raise ProtocolError("not a message")
    return message


def receive(sock: socket.socket) -> dict[str, Any]:
    return _decode(sock, b"")


def receive_with_fds(sock: socket.socket, max_fds: int) -> tuple[dict[str, Any], list[int]]:
    """A message and the descriptors that came with it (the caller closes them)."""
    header, fds, flags, _ = socket.recv_fds(sock, HEADER.size, max_fds)
    try:
        if not header:
            raise ProtocolError("connection closed")
        if flags & socket.MSG_CTRUNC:
            raise ProtocolError("too many descriptors")
        return _decode(sock, header), fds
    except BaseException:
        close_all(fds)
        raise


def close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
