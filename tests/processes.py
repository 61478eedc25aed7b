"""Running the `crm` daemons and commands as real processes, as a user or systemd would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import redis

from tests.conftest import Database

REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def write_config(path: Path, database: Database, namespace: str, **extra: str) -> Path:
    """A config file pointing at the test database and a Redis namespace of its own."""
    schema = f'pg_schema = "{database.schema}"\n' if database.schema else ""
    extra_toml = "".join(f"{section}\n" for section in extra.values())
    path.write_text(
        f'[database]\nurl = "{database.url}"\n{schema}\n'
        f'[broker]\nurl = "{REDIS_URL}"\nnamespace = "{namespace}"\n'
        "heartbeat_timeout_ms = 3000\nmaintenance_chance = 200000\n\n"
        "[worker]\nmax_retries = 3\nmin_backoff_ms = 100\nmax_backoff_ms = 1000\n\n"
        "[metrics]\nworker_port = 0\nworker_health_port = 0\n"
        f"{extra_toml}",
        encoding="utf-8",
    )
    return path


def new_namespace() -> str:
    return f"crm-test-{uuid.uuid4().hex[:12]}"


def clear_namespace(namespace: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{namespace}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def crm(
    config: Path, *args: str, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a `crm` command to completion."""
    result = subprocess.run(
        [sys.executable, "-m", "worker.cli.main", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"crm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def crm_json(config: Path, *args: str, timeout: float = 300) -> Any:
    return json.loads(crm(config, *args, "--json", timeout=timeout).stdout)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextmanager
def daemon(config: Path, *args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start `crm <args>` in its own process group; stop it with SIGTERM at the end."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker.cli.main", "--config", str(config), *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=_env(),
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def stop(
    process: subprocess.Popen[bytes],
    sig: int = signal.SIGTERM,
    timeout: float = 30,
    *,
    main_only: bool = False,
) -> int:
    """Signal the process group (or, like systemd's KillMode=mixed, only the main
    process) and wait; SIGKILL the group if it does not end in time."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            if main_only:
                os.kill(process.pid, sig)
            else:
                os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    return process.returncode


def wait_for(
    predicate: Any, timeout: float, interval: float = 0.2, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET on a loopback URL (errors are answers too)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@contextmanager
def private_redis(port: int, *options: str) -> Iterator[subprocess.Popen[bytes]]:
    """A Redis of the test's own on ``port`` (keeping nothing on disk), which the test may
    stop and start; ``options`` are more redis-server flags (``--requirepass PW``)."""
    process = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", *options),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _listening(port), timeout=20, what="redis-server")
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
