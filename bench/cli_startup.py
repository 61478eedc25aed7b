"""How long a ``crm`` command takes before and while it answers, as a user runs it.

    python -m bench.cli_startup            # SQLite database of 10,000 customers

Runs each command 7 times as a process (like hyperfine) and reports the median wall
time and the median CPU time of the process (user + system). On a shared machine the
wall time follows the load of the moment; the CPU time moves much less, so both are
recorded, with the load average. Then lists the ten costliest imports of each command
(``python -X importtime``, cumulative).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import dataset
from bench.common import append_result, machine, today
from crm_core.db import make_engine
from migrations import upgrade

RUNS = 7
CUSTOMERS = 10_000


def commands() -> dict[str, list[str]]:
    return {
        "crm --help": ["--help"],
        "crm customer list": ["customer", "list"],
        "crm customer get EMAIL": ["customer", "get", dataset.customer_email(CUSTOMERS // 2)],
    }


def run(arguments: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run."""
    crm = str(Path(sys.executable).with_name("crm"))
    started = time.perf_counter()
    process = subprocess.Popen([crm, *arguments], env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"crm {' '.join(arguments)} exited {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def costliest_imports(arguments: list[str], env: dict[str, str], cwd: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "worker.cli.main", *arguments],
        env=env, cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("   "):
            rows.append((int(parts[1]), parts[2].strip()))
    return [f"{name} {micros / 1000:.0f} ms" for micros, name in sorted(rows, reverse=True)[:10]]


def main() -> None:
    with tempfile.TemporaryDirectory() as cwd:
        url = f"sqlite:///{cwd}/crm.db"
        upgrade(url)
        engine = make_engine(url)
        dataset.load(engine, CUSTOMERS)
        engine.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env["CRM_DATABASE_URL"] = url
        label = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        for name, arguments in commands().items():
            run(arguments, env, cwd)  # warm the file cache
            walls, cpus = zip(*(run(arguments, env, cwd) for _ in range(RUNS)), strict=True)
            load = os.getloadavg()[0]
            row = [
                today(), machine(), label, name, str(RUNS),
                f"{statistics.median(walls):.3f}", f"{statistics.median(cpus):.3f}", f"{load:.1f}",
            ]  # fmt: skip
            print(" | ".join(row[2:]), flush=True)
            print("   ", "; ".join(costliest_imports(arguments, env, cwd)), flush=True)
            append_result(
                "CLI start-up (bench/cli_startup.py)",
                ["date", "machine", "code", "command", "runs", "wall p50 s", "CPU p50 s",
                 "load average"],
                row,
            )  # fmt: skip


if __name__ == "__main__":
    main()
