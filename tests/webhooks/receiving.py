"""Starting the receiver process (tests/webhooks/receiver.py) and reading its log."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.processes import _listening, stop, wait_for


@contextmanager
def receiver(
    port: int, secrets: str | list[str], log: Path, *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    """The receiver on ``port``, verifying with these secrets (one per endpoint)."""
    secret_file = log.with_suffix(".secret")
    secret_file.write_text("\n".join([secrets] if isinstance(secrets, str) else secrets))
    secret_file.chmod(0o600)
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("receiver.py")),
            str(port),
            str(secret_file),
            str(log),
            *options,
        ],
        start_new_session=True,
    )
    try:
        wait_for(lambda: _listening(port), timeout=20, what="the webhook receiver")
        yield process
        _let_answers_be_logged(log)
    finally:
        stop(process, timeout=10)


def _let_answers_be_logged(log: Path, timeout: float = 3.0) -> None:
    """The receiver logs an answer after writing it, so the sender can have it before
    the line is in the log: give requests that arrived a moment to be logged as
    answered before the receiver stops (one whose sender hung up never is)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(received(log)) >= len(received(log, "arrived")):
            return
        time.sleep(0.05)


def received(log: Path, phase: str = "answered") -> list[dict[str, Any]]:
    """The log's entries of one phase, in the order they happened."""
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").splitlines()
    return [entry for entry in map(json.loads, lines) if entry["phase"] == phase]


def first_arrivals(log: Path) -> list[str]:
    """Each webhook-id once, in the order first answered with success."""
    seen: dict[str, None] = {}
    for entry in received(log):
        if entry["status"] == 200:
            seen.setdefault(entry["id"], None)
    return list(seen)
