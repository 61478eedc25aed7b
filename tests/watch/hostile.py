"""Hostile HTTP clients: raw sockets that dribble, idle, lie about lengths or nest deeply."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

CUT_OFF = b"<cut off>"


@dataclass
class Outcome:
    """What a hostile client saw: the start of the answer (or CUT_OFF) and when."""

    answer: bytes
    seconds: float

    @property
    def status(self) -> int | None:
        """The HTTP status of the answer; None when the connection closed without one."""
        if not self.answer.startswith(b"HTTP/1."):
            return None
        return int(self.answer.split(b" ", 2)[1])


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def read_answer(sock: socket.socket, started: float) -> Outcome:
    """Read until the server closes the connection."""
    chunks: list[bytes] = []
    try:
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    except OSError:  # a reset counts as cut off
        pass
    answer = b"".join(chunks) or CUT_OFF
    return Outcome(answer, time.monotonic() - started)


@dataclass
class Dribbler:
    """Sends ``head`` at once, then ``tail`` one byte every ``interval`` seconds (for far
    longer than any deadline), in a thread; ``outcome`` is set once the server ends it."""

    port: int
    head: bytes
    tail: bytes
    interval: float = 0.25
    outcome: Outcome | None = None
    _done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Dribbler:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        started = time.monotonic()
        with connect(self.port) as sock:
            try:
                sock.sendall(self.head)
                for byte in self.tail:
                    sock.settimeout(self.interval)
                    try:  # waits one interval; an answer (or the close) ends the dribble
                        sock.recv(1, socket.MSG_PEEK)
                        break
                    except TimeoutError:
                        pass
                    sock.sendall(bytes([byte]))
            except OSError:
                pass
            sock.settimeout(30)
            self.outcome = read_answer(sock, started)
        self._done.set()

    def wait(self, timeout: float) -> Outcome:
        assert self._done.wait(timeout), "the server never ended a dribbling client"
        assert self.outcome is not None
        return self.outcome


def slow_headers(port: int, path: str) -> Dribbler:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode()
    tail = b"X-Slow: " + b"a" * 400 + b"\r\n\r\n"
    return Dribbler(port, head, tail)


def slow_body(port: int, path: str) -> Dribbler:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 400\r\n\r\n"
    ).encode()
    return Dribbler(port, head, b"{" * 400)


@contextmanager
def idle_connections(port: int, count: int) -> Iterator[list[socket.socket]]:
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(connect(port))
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def raw_request(port: int, head: bytes, body: bytes = b"") -> Outcome:
    started = time.monotonic()
    with connect(port) as sock:
        sock.sendall(head + body)
        return read_answer(sock, started)


def notification(address: str, history_id: int = 1) -> bytes:
    data = base64.b64encode(json.dumps({"emailAddress": address, "historyId": history_id}).encode())
    return json.dumps(
        {"message": {"data": data.decode(), "messageId": "1"}, "subscription": "s"}
    ).encode()


def post(path: str, body: bytes, *, close: bool = True) -> bytes:
    """A whole POST request, Connection: close so the server ends it after answering."""
    connection = "Connection: close\r\n" if close else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{connection}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth
