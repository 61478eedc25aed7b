"""How long a ``crm`` command takes before and while it answers, as a user runs it.

    python -m bench.cli_startup                 # SQLite database of 10,000 customers
    python -m bench.cli_startup --before main   # and that commit's code, runs interleaved

Runs each command 7 times as a process (like hyperfine) and reports the median wall
time and the median CPU time of the process (user + system). On a shared machine the
wall time follows the load of the moment; the CPU time moves much less, so both are
recorded, with the load average. Then lists the ten costliest imports of each command
run in-process (``python -X importtime``, cumulative).

The code at hand runs twice: served by a warm resident server (worker/cli/resident,
one of the bench's own, stopped at the end; the CPU time is the launcher's plus the
forked child's, which the server counts) and in-process (``CRM_RESIDENT=0``), as it
runs when no server answers.

With ``--before REF`` the code of that commit (``git archive``, put first on
PYTHONPATH) runs too, against a database it migrated and filled itself; the runs of
the two alternate, so both meet the same load. Code older than the launcher runs as
``worker.cli.main`` in-process.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import dataset
from bench.common import append_result, machine, today
from worker.cli.resident import protocol

RUNS = 7
CUSTOMERS = 10_000


def commands() -> dict[str, list[str]]:
    return {
        "crm --help": ["--help"],
        "crm customer list": ["customer", "list"],
        "crm customer get EMAIL": ["customer", "get", dataset.customer_email(CUSTOMERS // 2)],
    }


def build(url: str, env: dict[str, str] | None = None) -> None:
    """Migrate and fill the database at ``url`` with the code ``env`` imports."""
    script = (
        "import sys; from bench import dataset; from crm_core.db import make_engine; "
        "from migrations import upgrade; upgrade(sys.argv[1]); "
        "engine = make_engine(sys.argv[1]); dataset.load(engine, int(sys.argv[2])); "
        "engine.dispose()"
    )
    subprocess.run([sys.executable, "-c", script, url, str(CUSTOMERS)], env=env, check=True)


def crm_argv(env: dict[str, str]) -> list[str]:
    """The ``crm`` executable, or for code older than the launcher its entry point."""
    code = env.get("PYTHONPATH")
    if code and not (Path(code) / "worker" / "cli" / "launcher.py").is_file():
        entry = "import sys; from worker.cli.main import main; sys.argv[0] = 'crm'; main()"
        return [sys.executable, "-c", entry]
    return [str(Path(sys.executable).with_name("crm"))]


def server_cpu(env: dict[str, str]) -> float:
    """CPU seconds the resident server's children have used so far (0 without one)."""
    if env.get("CRM_RESIDENT") != "1":
        return 0.0
    for path in Path(env["CRM_RUNTIME_DIR"]).glob("server-*.sock"):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(path))
            protocol.send(sock, {"status": True})
            return float(protocol.receive(sock)["commands_cpu"])
    raise SystemExit("the resident server has gone")


def run(arguments: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run (served: the launcher's and the command's)."""
    served_before = server_cpu(env)
    started = time.perf_counter()
    process = subprocess.Popen(
        [*crm_argv(env), *arguments], env=env, cwd=cwd, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"crm {' '.join(arguments)} exited {process.returncode}")
    served = server_cpu(env) - served_before
    return wall, usage.ru_utime + usage.ru_stime + served


def start_resident_server(env: dict[str, str], cwd: str) -> None:
    """The first command runs in-process and starts the server; wait until it listens."""
    subprocess.run([*crm_argv(env), "--help"], env=env, cwd=cwd, capture_output=True, check=True)
    runtime = Path(env["CRM_RUNTIME_DIR"])
    deadline = time.monotonic() + 120
    while not list(runtime.glob("server-*.sock")):
        if time.monotonic() > deadline:
            raise SystemExit("the resident server did not start")
        time.sleep(0.1)


def stop_resident_server(env: dict[str, str], cwd: str) -> None:
    subprocess.run([*crm_argv(env), "resident", "stop"], env=env, cwd=cwd, check=False)


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a commit to measure too, e.g. main")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cwd:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env["CRM_DATABASE_URL"] = f"sqlite:///{cwd}/crm.db"
        label = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        runtime = Path(cwd) / "run"
        runtime.mkdir(mode=0o700)
        resident = {**env, "CRM_RESIDENT": "1", "CRM_RUNTIME_DIR": str(runtime)}
        in_process = {**env, "CRM_RESIDENT": "0"}
        codes = {f"{label} resident (warm)": resident, f"{label} in-process": in_process}
        if args.before:
            export = Path(cwd) / "before"
            export.mkdir()
            archive = subprocess.run(
                ["git", "archive", args.before], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(export)], input=archive, check=True)
            sha = subprocess.run(
                ["git", "rev-parse", "--short", args.before], capture_output=True, text=True
            ).stdout.strip()
            before = {**env, "PYTHONPATH": str(export), "CRM_DATABASE_URL": f"sqlite:///{cwd}/b.db"}
            build(before["CRM_DATABASE_URL"], before)
            codes = {f"before ({args.before} {sha})": before, **codes}
        build(env["CRM_DATABASE_URL"])
        start_resident_server(resident, cwd)
        try:
            measure(codes, cwd)
        finally:
            stop_resident_server(resident, cwd)


def measure(codes: dict[str, dict[str, str]], cwd: str) -> None:
    for name, arguments in commands().items():
        measured: dict[str, list[tuple[float, float]]] = {code: [] for code in codes}
        for code_env in codes.values():
            run(arguments, code_env, cwd)  # warm the file cache
        for _ in range(RUNS):
            for code, code_env in codes.items():
                measured[code].append(run(arguments, code_env, cwd))
        load = os.getloadavg()[0]
        for code, code_env in codes.items():
            walls, cpus = zip(*measured[code], strict=True)
            row = [
                today(), machine(), code, name, str(RUNS),
                f"{statistics.median(walls):.3f}", f"{statistics.median(cpus):.3f}",
                f"{load:.1f}",
            ]  # fmt: skip
            print(" | ".join(row[2:]), flush=True)
            if code_env.get("CRM_RESIDENT") != "1":
                imports = costliest_imports(arguments, code_env, cwd)
                print("   ", "; ".join(imports), flush=True)
            append_result(
                "CLI start-up (bench/cli_startup.py)",
                ["date", "machine", "code", "command", "runs", "wall p50 s", "CPU p50 s",
                 "load average"],
                row,
            )  # fmt: skip


if __name__ == "__main__":
    main()
