"""The deployment files in deploy/: systemd units, container image, compose file, the
configurations they use and the commands the operator guide tells people to run.

Tools that are not Python packages are used when present and skipped, with the reason,
when not: ``systemd-analyze`` (apt-get install systemd; no running systemd needed),
libseccomp (comes with systemd), PyYAML for compose.yaml, the docker compose plugin.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import mmap
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.processes import (
    REDIS_URL,
    clear_namespace,
    free_port,
    http_get,
    new_namespace,
    wait_for,
)
from worker.cli.main import app
from worker.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
CONTAINER = DEPLOY / "container"
GUIDE = DEPLOY / "README.md"
DOCKERFILE = CONTAINER / "Dockerfile"
DOCKERIGNORE = CONTAINER / "Dockerfile.dockerignore"
COMPOSE = CONTAINER / "compose.yaml"
CONTAINER_CONFIG = CONTAINER / "config.toml"
ENV_EXAMPLE = SYSTEMD / "crm.env.example"

CRM = "/opt/crm/venv/bin/crm"
STATE_DIR = "/var/lib/crm"
SERVICES = {
    "crm-migrate.service": "db upgrade",
    "crm-worker.service": "worker",
    "crm-watch.service": "watch",
}
TARGET = "crm.target"

# Every `crm` command that deploy/README.md, the units and compose.yaml use. The guide
# may mention only these (test_guide_mentions_only_listed_commands), and each must
# exist with the options the guide gives it (test_listed_commands_exist).
COMMANDS = [
    "db upgrade",
    "worker",
    "watch",
    "gmail auth",
    "gmail status",
    "sync",
    "audit",
    "status",
    "config check",
    "import mbox",
    "quarantine list",
    "quarantine show",
    "quarantine retry",
    "ingest resume",
    "customer",
    "privacy export",
    "privacy erase",
    "retention run",
]

HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native",
    "CapabilityBoundingSet": "",
    "UMask": "0077",
}

SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|DATABASE_URL", re.IGNORECASE)


# --- systemd units ------------------------------------------------------------------


Unit = dict[str, dict[str, list[str]]]


def parse_unit(path: Path) -> Unit:
    """A unit file as {section: {key: [values, in order]}} (keys may repeat in systemd)."""
    sections: Unit = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} before any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a key=value line: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: Unit, section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert values, f"{section}.{key} missing"
    return values[-1]


def words(unit: Unit, section: str, key: str) -> set[str]:
    return {word for value in unit.get(section, {}).get(key, []) for word in value.split()}


def seconds(span: str) -> float:
    """A systemd time span ("11min", "2min 30s", "600") in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", span):
        total += float(number) * units[unit]
    return total


@pytest.fixture(scope="module")
def units() -> dict[str, Unit]:
    return {name: parse_unit(SYSTEMD / name) for name in [*SERVICES, TARGET]}


def test_unit_files_have_their_sections(units: dict[str, Unit]) -> None:
    for name in SERVICES:
        assert {"Unit", "Service", "Install"} <= units[name].keys(), name
        assert one(units[name], "Unit", "Description")
    assert {"Unit", "Install"} <= units[TARGET].keys()
    assert "Service" not in units[TARGET]
    assert one(units[TARGET], "Install", "WantedBy") == "multi-user.target"


@pytest.mark.parametrize(("name", "command"), SERVICES.items())
def test_exec_start_runs_the_installed_crm(units: dict[str, Unit], name: str, command: str) -> None:
    assert units[name]["Service"]["ExecStart"] == [f"{CRM} {command}"]


@pytest.mark.parametrize("name", SERVICES)
def test_services_run_as_the_crm_user_with_config_and_secrets(
    units: dict[str, Unit], name: str
) -> None:
    service = units[name]["Service"]
    assert one(units[name], "Service", "User") == "crm"
    assert one(units[name], "Service", "Group") == "crm"
    assert "DynamicUser" not in service  # the token directory must outlive the service
    assert one(units[name], "Service", "EnvironmentFile") == "/etc/crm/crm.env"
    assert "CRM_CONFIG=/etc/crm/config.toml" in service["Environment"]
    assert one(units[name], "Service", "WorkingDirectory") == STATE_DIR
    assert words(units[name], "Service", "StateDirectory") == {"crm", "crm/tokens"}
    for value in service.get("Environment", []):
        assert not SECRET_NAME.search(value), f"{name}: secret in Environment={value}"


@pytest.mark.parametrize("name", SERVICES)
def test_services_are_hardened(units: dict[str, Unit], name: str) -> None:
    for key, expected in HARDENING.items():
        assert one(units[name], "Service", key) == expected, f"{name}: {key}"
    writable = units[name]["Service"].get("ReadWritePaths", [])
    assert writable, f"{name}: ReadWritePaths missing"
    for path in " ".join(writable).split():
        assert path == STATE_DIR or path.startswith(STATE_DIR + "/"), f"{name}: {path}"
    assert "@system-service" in words(units[name], "Service", "SystemCallFilter")


@pytest.mark.parametrize("name", SERVICES)
def test_services_start_in_order_and_belong_to_the_target(
    units: dict[str, Unit], name: str
) -> None:
    unit = units[name]
    assert "network-online.target" in words(unit, "Unit", "Wants")
    assert "network-online.target" in words(unit, "Unit", "After")
    assert "postgresql.service" in words(unit, "Unit", "After")
    assert one(unit, "Unit", "PartOf") == TARGET
    assert one(unit, "Install", "WantedBy") == TARGET
    assert one(unit, "Service", "Restart") == "on-failure"
    assert seconds(one(unit, "Service", "RestartSec")) > 0
    assert one(unit, "Service", "KillSignal") == "SIGTERM"
    if name != "crm-migrate.service":
        assert "crm-migrate.service" in words(unit, "Unit", "Requires")
        assert "crm-migrate.service" in words(unit, "Unit", "After")
        assert "redis-server.service" in words(unit, "Unit", "After")


def test_migrate_is_a_oneshot_that_stays_active(units: dict[str, Unit]) -> None:
    unit = units["crm-migrate.service"]
    assert one(unit, "Service", "Type") == "oneshot"
    assert one(unit, "Service", "RemainAfterExit") == "yes"


def test_worker_stop_lets_jobs_finish(units: dict[str, Unit]) -> None:
    unit = units["crm-worker.service"]
    # Only the Dramatiq master gets SIGTERM; it forwards one to each worker process.
    assert one(unit, "Service", "KillMode") == "mixed"
    # Longer than Dramatiq's own 10-minute shutdown timeout.
    assert seconds(one(unit, "Service", "TimeoutStopSec")) > 600


def _verifiable_units(tmp_path: Path) -> list[Path]:
    """Copies of the units whose ExecStart names an executable that exists here."""
    crm = Path(sys.executable).parent / "crm"
    fake = tmp_path / "venv" / "bin" / "crm"
    fake.parent.mkdir(parents=True)
    if crm.is_file():
        shutil.copy2(crm, fake)
    else:
        fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    copies = []
    for name in [TARGET, *SERVICES]:
        copy = tmp_path / name
        copy.write_text((SYSTEMD / name).read_text().replace(CRM, str(fake)))
        copies.append(copy)
    return copies


def _systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    return tool


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = _systemd_analyze()
    copies = _verifiable_units(tmp_path)
    result = subprocess.run(
        [tool, "verify", *[str(c) for c in copies]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    # Unknown keys and bad values are only warnings (exit 0): any line about our units fails.
    ours = [line for line in output.splitlines() if "crm" in line]
    assert result.returncode == 0 and not ours, output


def test_systemd_security_exposure_is_low() -> None:
    tool = _systemd_analyze()
    result = subprocess.run(
        [tool, "security", "--offline=true", "--threshold=20", *SERVICES],
        capture_output=True,
        text=True,
        cwd=SYSTEMD,
        timeout=120,
        check=False,
    )
    # --threshold is on the 0-100 scale: at most an exposure of 2.0 ("OK").
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


# --- the units' sandbox, emulated: do Python and the daemons run inside it? -----------
#
# systemd applies SystemCallFilter=, MemoryDenyWriteExecute= and RestrictAddressFamilies=
# as seccomp filters. The same filters, built with libseccomp from the unit's own
# settings and the syscall groups systemd-analyze lists, are loaded here in a child
# process before it execs `crm`. A library that needs writable+executable memory, a
# forbidden system call or a netlink socket fails these tests instead of production.


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_EQ = 4
SCMP_CMP_MASKED_EQ = 7


def _errno_action(number: int) -> int:
    return 0x00050000 | number


def _syscall_groups(tool: str) -> dict[str, list[str]]:
    listing = subprocess.run(
        [tool, "syscall-filter"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in listing.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.startswith("    ") and current is not None:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                current.append(entry)
        else:
            current = None
    return groups


def _expand(names: set[str], groups: dict[str, list[str]]) -> set[str]:
    calls: set[str] = set()
    for name in names:
        calls |= _expand(set(groups[name]), groups) if name.startswith("@") else {name}
    return calls


class Sandbox:
    """The seccomp filters of one unit, ready to be loaded in a child process."""

    def __init__(self, unit: Unit, tool: str) -> None:
        path = ctypes.util.find_library("seccomp")
        if sys.platform != "linux" or path is None:
            pytest.skip("libseccomp is not available (it comes with systemd)")
        lib = ctypes.CDLL(path, use_errno=True)
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_rule_add_array.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.POINTER(_ArgCmp),
        ]
        lib.seccomp_load.argtypes = [ctypes.c_void_p]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        self.lib = lib
        # Loaded in this order; the allow-list last, as it forbids loading more filters.
        self.filters: list[int] = []

        service = unit["Service"]
        eperm = _errno_action(errno.EPERM)
        if one(unit, "Service", "MemoryDenyWriteExecute") == "yes":
            mdwe = self._new(SCMP_ACT_ALLOW)
            wx = mmap.PROT_WRITE | mmap.PROT_EXEC
            self._rule(mdwe, eperm, "mmap", [_ArgCmp(2, SCMP_CMP_MASKED_EQ, wx, wx)])
            x = mmap.PROT_EXEC
            for call in ("mprotect", "pkey_mprotect"):
                self._rule(mdwe, eperm, call, [_ArgCmp(2, SCMP_CMP_MASKED_EQ, x, x)])
            shm_exec = 0o100000
            self._rule(mdwe, eperm, "shmat", [_ArgCmp(2, SCMP_CMP_MASKED_EQ, shm_exec, shm_exec)])
        families = service.get("RestrictAddressFamilies", [])
        if families:
            keep = {int(getattr(socket, name)) for name in " ".join(families).split()}
            restrict = self._new(SCMP_ACT_ALLOW)
            no_support = _errno_action(errno.EAFNOSUPPORT)  # what systemd answers
            for family in range(46):
                if family not in keep:
                    self._rule(restrict, no_support, "socket", [_ArgCmp(0, SCMP_CMP_EQ, family, 0)])
        groups = _syscall_groups(tool)
        allowed: set[str] = set()
        for value in service.get("SystemCallFilter", []):
            names = set(value.lstrip("~").split())
            if value.startswith("~"):
                allowed -= _expand(names, groups)
            else:
                allowed |= _expand(names, groups)
        if allowed:
            error = getattr(errno, one(unit, "Service", "SystemCallErrorNumber"))
            allow_list = self._new(_errno_action(error))
            for call in sorted(allowed):
                self._rule(allow_list, SCMP_ACT_ALLOW, call, [])

    def _new(self, default_action: int) -> int:
        context = self.lib.seccomp_init(default_action)
        assert context
        self.filters.append(context)
        return int(context)

    def _rule(self, context: int, action: int, call: str, conditions: list[_ArgCmp]) -> None:
        number = self.lib.seccomp_syscall_resolve_name(call.encode())
        if number < 0:
            return
        array = (_ArgCmp * max(1, len(conditions)))(*conditions)
        result = self.lib.seccomp_rule_add_array(
            context, action, number, len(conditions), array if conditions else None
        )
        assert result == 0, f"seccomp rule for {call}: {result}"

    def enter(self) -> None:
        """In the child, between fork and exec: load the filters (no_new_privs is set)."""
        for context in self.filters:
            if self.lib.seccomp_load(context) != 0:
                os._exit(121)

    def run(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, preexec_fn=self.enter, capture_output=True, text=True, check=False, **kwargs
        )

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, preexec_fn=self.enter, **kwargs)


@pytest.fixture(scope="module")
def sandboxes(units: dict[str, Unit]) -> dict[str, Sandbox]:
    tool = _systemd_analyze()
    return {name: Sandbox(units[name], tool) for name in SERVICES}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _crm_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "worker.cli.main", *args]


PROBE = """
import errno, mmap, os, socket, sys
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit("writable+executable memory was allowed")
except PermissionError:
    pass
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)
    sys.exit("a netlink socket was allowed")
except OSError as exc:
    assert exc.errno == errno.EAFNOSUPPORT, exc
try:
    os.setpriority(os.PRIO_PROCESS, 0, 5)
    sys.exit("@resources (setpriority) was allowed")
except PermissionError:
    pass
print("sandboxed")
"""

EXERCISE = """
import importlib, pkgutil
import crm_core, migrations, worker
for package in (crm_core, worker, migrations):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if module.name != "migrations.env":  # only importable inside Alembic
            importlib.import_module(module.name)
# OIDC checks of Pub/Sub pushes: RSA signatures through google-auth and cryptography.
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
signature = key.sign(b"x", padding.PKCS1v15(), hashes.SHA256())
key.public_key().verify(signature, b"x", padding.PKCS1v15(), hashes.SHA256())
import google.auth.crypt, ssl, ctypes, socket
ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)(1)
socket.getaddrinfo("localhost", 5432)
ssl.create_default_context()
print("exercised")
"""


def test_the_emulated_sandbox_is_effective(sandboxes: dict[str, Sandbox]) -> None:
    result = sandboxes["crm-worker.service"].run(
        [sys.executable, "-c", PROBE], env=_clean_env(), timeout=120
    )
    assert result.returncode == 0 and "sandboxed" in result.stdout, result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_python_and_the_dependencies_work_in_the_sandbox(
    sandboxes: dict[str, Sandbox], name: str
) -> None:
    result = sandboxes[name].run(
        [sys.executable, "-c", EXERCISE], env=_clean_env(), timeout=300, cwd=ROOT
    )
    assert result.returncode == 0 and "exercised" in result.stdout, result.stderr[-3000:]


def test_migrations_run_in_the_sandbox(sandboxes: dict[str, Sandbox], tmp_path: Path) -> None:
    env = _clean_env(CRM_DATABASE_URL=f"sqlite:///{tmp_path / 'crm.db'}")
    result = sandboxes["crm-migrate.service"].run(
        _crm_argv("db", "upgrade"), env=env, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    namespace = new_namespace()
    yield namespace
    clear_namespace(namespace)


@pytest.mark.slow
def test_daemons_run_and_stop_cleanly_in_the_sandbox(
    sandboxes: dict[str, Sandbox], tmp_path: Path, redis_namespace: str
) -> None:
    """`crm worker` and `crm watch` start, answer /healthz and /readyz, and exit 0 on
    SIGTERM, sent as systemd sends it (KillMode=mixed: the worker's main process)."""
    push, metrics, health = free_port(), free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "crm.db"}"\n'
        f'[broker]\nurl = "{REDIS_URL}"\nnamespace = "{redis_namespace}"\n'
        f'[gmail]\ntoken_dir = "{tmp_path / "tokens"}"\n'
        f"[push]\nport = {push}\n"
        f"[metrics]\nworker_port = {metrics}\nworker_health_port = {health}\n"
        '[[mailboxes]]\naddress = "info@rendetalje.dk"\n',
        encoding="utf-8",
    )
    env = _clean_env(CRM_CONFIG=str(config))
    migrated = sandboxes["crm-migrate.service"].run(
        _crm_argv("db", "upgrade"), env=env, timeout=300, cwd=tmp_path
    )
    assert migrated.returncode == 0, migrated.stderr
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("worker", "watch")}
    worker = sandboxes["crm-worker.service"].popen(
        _crm_argv("worker", "-p", "1", "-t", "1"),
        env=env,
        cwd=tmp_path,
        stdout=logs["worker"],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    watch = sandboxes["crm-watch.service"].popen(
        _crm_argv("watch"),
        env=env,
        cwd=tmp_path,
        stdout=logs["watch"],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def log_text() -> str:
        return "\n".join(
            f"--- {name}\n" + (tmp_path / f"{name}.log").read_text(errors="replace")[-3000:]
            for name in logs
        )

    try:
        for port in (health, push):
            wait_for(
                lambda port=port: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200,
                180,
                interval=0.5,
                what=f"/healthz on port {port}\n{log_text()}",
            )
            assert http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200, log_text()
        assert http_get(f"http://127.0.0.1:{push}/metrics")[0] == 200, log_text()
        worker.send_signal(signal.SIGTERM)
        watch.send_signal(signal.SIGTERM)
        assert worker.wait(120) == 0, log_text()
        assert watch.wait(120) == 0, log_text()
    finally:
        for process in (worker, watch):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)
        for log in logs.values():
            log.close()


# --- container image ------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or (line.startswith("#") and not pending):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    assert not pending, "Dockerfile ends with a continuation"
    return instructions


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    instructions = dockerfile_instructions()
    args = dict(
        arg.split("=", 1) for keyword, arg in instructions if keyword == "ARG" and "=" in arg
    )
    froms = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert len(froms) >= 2
    for base in froms:
        image = base.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert image == "python:3.11-slim", base
    assert froms[0].lower().endswith("as builder")
    final = stages()[-1]
    copies = [arguments for keyword, arguments in final if keyword == "COPY"]
    assert any(c.startswith("--from=builder /opt/crm/venv") for c in copies), copies
    # The final stage takes the venv, not the sources or the whole context.
    assert not any(c.split()[0] == "." for c in copies), copies


def test_dockerfile_runs_crm_as_an_unprivileged_user() -> None:
    final = stages()[-1]
    users = [arguments for keyword, arguments in final if keyword == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    entrypoint = [json.loads(a) for k, a in final if k == "ENTRYPOINT"]
    assert entrypoint == [["crm"]]
    assert [json.loads(a) for k, a in final if k == "CMD"] == [["--help"]]
    env = " ".join(arguments for keyword, arguments in final if keyword == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    assert "CRM_CONFIG=/etc/crm/config.toml" in env


def test_dockerfile_holds_no_secrets() -> None:
    for keyword, arguments in dockerfile_instructions():
        if keyword in {"ENV", "ARG", "LABEL"}:
            for name in re.findall(r"([A-Za-z_][\w.]*)=", arguments):
                assert not SECRET_NAME.search(name), f"{keyword} {arguments}"
        if keyword in {"COPY", "ADD"}:
            assert not re.search(r"secret|token|\.env\b|credentials", arguments, re.I), arguments


def test_dockerfile_copies_only_what_the_ignore_file_lets_through() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "the ignore file should be an allow-list"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    for keyword, arguments in dockerfile_instructions():
        if keyword != "COPY" or arguments.startswith("--from"):
            continue
        *sources, _target = [a for a in arguments.split() if not a.startswith("--")]
        for source in sources:
            source = source.rstrip("/")
            assert source in allowed, f"COPY {source}: excluded by {DOCKERIGNORE.name}"
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    for path in allowed:
        assert not re.search(r"secret|token|\.venv|\.env", path), path


# --- compose.yaml ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        pytest.skip("PyYAML is not installed: compose.yaml cannot be parsed")
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def container_settings() -> Settings:
    return _load_config(CONTAINER_CONFIG)


def _load_config(path: Path, **env: str) -> Settings:
    saved = {k: v for k, v in os.environ.items() if k.startswith("CRM_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(env)
    try:
        return load_settings(path)
    finally:
        for key in env:
            os.environ.pop(key, None)
        os.environ.update(saved)


def test_compose_has_the_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "worker", "watch"} <= services.keys()
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])


def test_compose_runs_migrations_once_before_the_daemons(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("worker", "watch"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert services[name]["command"] == [name]


def test_compose_health_checks_hit_each_role_s_port(
    compose: dict[str, Any], container_settings: Settings
) -> None:
    services = compose["services"]
    ports = {
        "worker": container_settings.metrics.worker_health_port,
        "watch": container_settings.push.port,
    }
    for name, port in ports.items():
        check = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/healthz" in check, (name, check)
        assert services[name]["healthcheck"]["test"][:2] == ["CMD", "python"]
    published = services["watch"]["ports"]
    assert f"127.0.0.1:{ports['watch']}:{ports['watch']}" in published


def test_compose_crm_services_are_hardened_and_keep_tokens(
    compose: dict[str, Any], container_settings: Settings
) -> None:
    token_mount = f"tokens:{container_settings.gmail.token_dir}"
    assert str(container_settings.gmail.token_dir) == "/var/lib/crm/tokens"
    for name in ("migrate", "worker", "watch", "cli", "gmail-auth"):
        service = compose["services"][name]
        assert service["init"] is True, name
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert token_mount in service["volumes"], name
        assert "./config.toml:/etc/crm/config.toml:ro" in service["volumes"], name
        assert service["build"]["dockerfile"] == "deploy/container/Dockerfile"
        assert (CONTAINER / service["build"]["context"]).resolve() == ROOT
    assert "tokens" in compose["volumes"]
    assert seconds(compose["services"]["worker"]["stop_grace_period"]) > 600


def test_compose_passes_the_password_as_a_secret(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert compose["secrets"]["db_password"] == {"file": "./secrets/db_password"}
    postgres_env = services["postgres"]["environment"]
    assert postgres_env["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    for name, service in services.items():
        for key, value in dict(service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert key.endswith("_FILE") and str(value).startswith("/run/secrets/"), name
        if name not in {"postgres", "redis"}:
            assert "db_password" in service["secrets"], name
            assert "env_file" not in service, name
    auth = services["gmail-auth"]
    assert auth["profiles"] == ["tools"]
    assert "google_oauth_client" in auth["secrets"]
    assert auth["environment"] == {
        "CRM_CONFIG": "/etc/crm/config.toml",
        "CRM_GMAIL_CLIENT_SECRETS_FILE": "/run/secrets/google_oauth_client",
    }


def _run_entrypoint(entrypoint: list[str], args: list[str], tmp_path: Path) -> dict[str, Any]:
    """Run a compose entrypoint with a fake `crm` that reports what it was given."""
    secret = tmp_path / "db_password"
    secret.write_text("s3cr3t-hex\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "crm"
    fake.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        'print(json.dumps({"argv": sys.argv[1:], "password": os.environ.get("PGPASSWORD")}))\n'
    )
    fake.chmod(0o755)
    argv = [
        part.replace("$$", "$").replace("/run/secrets/db_password", str(secret))
        for part in entrypoint
    ]
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    result = subprocess.run(
        [*argv, *args], capture_output=True, text=True, env=env, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_compose_entrypoint_exports_the_password_and_passes_arguments(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    services = compose["services"]
    worker = _run_entrypoint(services["worker"]["entrypoint"], ["worker"], tmp_path)
    assert worker == {"argv": ["worker"], "password": "s3cr3t-hex"}
    spaced = ["import", "mbox", "/import/All mail.mbox", "--mailbox", "a@b.dk"]
    assert _run_entrypoint(services["cli"]["entrypoint"], spaced, tmp_path)["argv"] == spaced
    auth = _run_entrypoint(services["gmail-auth"]["entrypoint"], ["info@x.dk"], tmp_path)
    assert auth["argv"][:2] == ["gmail", "auth"] and auth["argv"][-1] == "info@x.dk"
    assert auth["password"] == "s3cr3t-hex"


def test_compose_commands_exist(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("migrate", "worker", "watch"):
        _check_invocation(services[name]["command"])
    auth_script = services["gmail-auth"]["entrypoint"][2]
    invocation = auth_script.split("exec crm ", 1)[1].replace('"$$@"', "").split()
    _check_invocation(invocation)


def test_docker_compose_config_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False, timeout=60
        ).returncode
    ):
        pytest.skip("the docker compose plugin is not installed")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "--profile", "tools", "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


# --- configurations -------------------------------------------------------------------


def test_container_config_loads_without_secrets(container_settings: Settings) -> None:
    url = make_url(container_settings.database.url)
    assert url.get_backend_name() == "postgresql"
    assert url.password is None  # PGPASSWORD from the compose secret
    assert container_settings.broker.url.startswith("redis://")
    assert container_settings.push.host == "0.0.0.0"
    assert container_settings.mailboxes, "crm watch refuses to start without a mailbox"
    assert not _secret_values(tomllib.loads(CONTAINER_CONFIG.read_text(encoding="utf-8")))


def _secret_values(data: Any, where: str = "") -> list[str]:
    """Keys of a parsed TOML document that look like secrets and have a value."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{where}.{key}" if where else key
            if SECRET_NAME.search(key) and not key.endswith(("_file", "_dir")) and value:
                found.append(name)
            found += _secret_values(value, name)
    elif isinstance(data, list):
        for item in data:
            found += _secret_values(item, where)
    return found


def guide_toml_blocks() -> list[str]:
    return re.findall(r"^```toml\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.M | re.S)


def test_guide_toml_blocks_load(tmp_path: Path) -> None:
    blocks = guide_toml_blocks()
    assert len(blocks) >= 2
    for index, block in enumerate(blocks):
        path = tmp_path / f"block{index}.toml"
        path.write_text(block, encoding="utf-8")
        _load_config(path)  # raises ConfigError naming an unknown key or a bad value


def test_guide_systemd_config_fits_the_units(tmp_path: Path) -> None:
    block = next(b for b in guide_toml_blocks() if "[database]" in b)
    path = tmp_path / "config.toml"
    path.write_text(block, encoding="utf-8")
    settings = _load_config(path, **_env_example())
    assert str(settings.gmail.token_dir).startswith(STATE_DIR + "/")
    assert make_url(tomllib.loads(block)["database"]["url"]).password is None
    assert make_url(settings.database.url).password  # from the environment file
    assert settings.push.host == "127.0.0.1"
    assert settings.broker.url.startswith("redis://")
    assert settings.mailboxes


def _env_example() -> dict[str, str]:
    """The variables crm.env.example sets, read the way sh reads it (`set -a; . file`)."""
    result = subprocess.run(
        ["/bin/sh", "-c", 'set -a && . "$0" && env', str(ENV_EXAMPLE)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=True,
        timeout=30,
    )
    env = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {k: v for k, v in env.items() if k.startswith("CRM_")}


def test_env_example_is_readable_by_systemd_and_sh() -> None:
    lines = [
        line
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for line in lines:
        # KEY='value': systemd's EnvironmentFile= and sh agree on this form.
        assert re.fullmatch(r"CRM_[A-Z_]+='[^']*'", line), line
    env = _env_example()
    assert set(env) == {"CRM_DATABASE_URL"}
    assert make_url(env["CRM_DATABASE_URL"]).get_backend_name() == "postgresql"


# --- the operator guide's commands ----------------------------------------------------


def _resolve(tokens: list[str]) -> tuple[list[str], Any]:
    """The longest run of leading tokens naming a (sub)command, and that command
    (a click command object, as typer builds it)."""
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    for token in tokens:
        if not hasattr(command, "get_command"):
            break
        # Through the group's own lookup: `crm` loads its sub-commands on first use.
        sub = command.get_command(command.make_context("crm", [], resilient_parsing=True), token)
        if sub is None:
            break
        command, path = sub, [*path, token]
    return path, command


def _check_invocation(tokens: list[str]) -> None:
    """A command line after `crm`: the command exists and knows the --options given."""
    path, command = _resolve(tokens)
    assert path, f"`crm {' '.join(tokens)}`: no such command"
    assert " ".join(path) in COMMANDS or any(c.startswith(" ".join(path)) for c in COMMANDS), (
        f"`crm {' '.join(path)}` is used but missing from COMMANDS"
    )
    known = {opt for param in command.params for opt in param.opts + param.secondary_opts}
    known.add("--help")
    for token in tokens[len(path) :]:
        if token.startswith("--"):
            option = token.split("=", 1)[0]
            assert option in known, f"`crm {' '.join(path)}` has no option {option}"


SHELL_BREAK = re.compile(r"^(?:;|&&|\|\|?|>|<|#.*|\)|`)$")
WORD = re.compile(r"[a-z][a-z0-9-]*")
# `crm` as a command word: not part of a path, a name like crm-worker, or key=crm.
CRM_CALL = re.compile(r"(?<![\w/.@=:-])crm[ \t]+(.*)")
CLI_CALL = re.compile(r"docker compose run\b.*?(?<![\w-])cli[ \t]+(.*)")


def guide_mentions() -> list[list[str]]:
    """Every `crm …` command line in the guide's code (blocks and inline spans)."""
    text = GUIDE.read_text(encoding="utf-8")
    code: list[str] = []
    prose: list[str] = []
    in_block = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            code.append(re.sub(r"(^|\s)#.*", "", line))  # shell and YAML comments
        else:
            prose.append(line)
    code += [span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", "\n".join(prose))]
    mentions = []
    for line in code:
        for pattern in (CRM_CALL, CLI_CALL):
            for match in pattern.finditer(line):
                tokens = []
                for token in match.group(1).split():
                    if SHELL_BREAK.match(token):
                        break
                    tokens.append(token)
                if tokens and WORD.fullmatch(tokens[0]):
                    mentions.append(tokens)
    return mentions


def test_guide_mentions_only_listed_commands() -> None:
    mentions = guide_mentions()
    assert len(mentions) >= len(COMMANDS)
    for tokens in mentions:
        leading = []
        for token in tokens:
            if not WORD.fullmatch(token):
                break
            leading.append(token)
        matched = [c for c in COMMANDS if leading[: len(c.split())] == c.split()]
        assert matched, f"deploy/README.md mentions `crm {' '.join(tokens)}`: not in COMMANDS"
        _check_invocation(tokens)


def test_guide_mentions_every_listed_command() -> None:
    mentioned = {" ".join(_resolve(tokens)[0]) for tokens in guide_mentions()}
    assert set(COMMANDS) <= mentioned, set(COMMANDS) - mentioned


@pytest.mark.parametrize("command", COMMANDS)
def test_listed_commands_exist(command: str) -> None:
    result = CliRunner().invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    path, _ = _resolve(command.split())
    assert path == command.split()


def test_crm_executable_answers_help() -> None:
    result = subprocess.run(
        _crm_argv("--help"),
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
