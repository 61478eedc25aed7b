"""Shared by the benchmarks: machine facts, fresh schemas, the results table."""

from __future__ import annotations

import json
import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis

from migrations import upgrade

PG_URL = os.environ.get(
    "CRM_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_DSN = PG_URL.replace("postgresql+psycopg://", "postgresql://")  # for psycopg itself
REDIS_URL = os.environ.get("CRM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
OUT = Path(__file__).resolve().parent / "out"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores {cpu}{memory}, Python {platform.python_version()}"


def fresh_schema(name: str) -> str:
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        connection.execute(f'CREATE SCHEMA "{name}"')
    upgrade(PG_URL, schema=name)
    return name


def drop_schema(name: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def median(values: list[float]) -> float:
    return statistics.median(values)


def append_result(title: str, header: list[str], row: list[str]) -> None:
    """Append a row to the table under ``## title`` in bench/RESULTS.md (made if missing)."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    marker = f"## {title}\n"
    line = "| " + " | ".join(row) + " |\n"
    if marker not in text:
        text += (
            f"\n{marker}\n| "
            + " | ".join(header)
            + " |\n|"
            + "|".join(" --- " for _ in header)
            + "|\n"
            + line
        )
    else:
        head, _, rest = text.partition(marker)
        table_end = rest.find("\n\n", rest.find("|"))
        if table_end == -1:
            rest = rest.rstrip("\n") + "\n" + line
        else:
            rest = rest[:table_end] + "\n" + line.rstrip("\n") + rest[table_end:]
        text = head + marker + rest
    RESULTS.write_text(text, encoding="utf-8")


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def clear_namespace(namespace: str) -> None:
    """Delete a run's Redis keys (its queues and heartbeats)."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{namespace}*"))
    if keys:
        client.delete(*keys)
    client.close()


def write_token_file(tokens: Path, mailbox: str, token_uri: str, refresh_token: str) -> Path:
    """The authorized-user file `crm gmail auth` writes, for the local Gmail server."""
    tokens.mkdir(parents=True, exist_ok=True)
    path = tokens / f"{mailbox}.json"
    info = {
        "type": "authorized_user",
        "client_id": "bench",
        "client_secret": "bench",
        "refresh_token": refresh_token,
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    path.chmod(0o600)
    return path
