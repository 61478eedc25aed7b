"""Bad input that only a real `crm` process meets: argv bytes that are not UTF-8, a
config file it may not read, a Redis that is down or refuses it, and many processes
linking leads to one customer at once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_core.models import Customer, Lead
from tests.cli.refusals import snapshot
from tests.conftest import Database
from tests.ingest.test_sample_mailbox import SAMPLES
from tests.processes import REDIS_URL, free_port, private_redis

SAMPLE = str(SAMPLES / "rendetalje.mbox")
REPO = Path(__file__).resolve().parents[2]
CRM = [sys.executable, "-m", "worker.cli.main"]


def run_crm(
    *args: str | bytes,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    prefix: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    return subprocess.run(
        [*prefix, *CRM, *args],
        env={**base, "PYTHONPATH": str(REPO), **(env or {})},
        cwd=cwd,
        capture_output=True,
        timeout=120,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode != 0, result.stdout
    stderr = result.stderr.decode("utf-8")
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_arguments_that_are_not_utf8_are_refused(database: Database) -> None:
    before = snapshot(database)
    result = run_crm("customer", "create", b"\xff\xfe", "a@b.dk", env=database.env())
    assert result.returncode == 2
    assert one_error_line(result) == (
        "Error: argument '\\xff\\xfe' is not valid UTF-8 text; use UTF-8 (check the locale)"
    )
    result = run_crm("customer", "list", "--tag", b"caf\xe9", env=database.env())
    assert "is not valid UTF-8" in one_error_line(result)
    assert snapshot(database) == before


# root reads any file; without these two capabilities it obeys file modes like a user.
_FILE_CAPS = "-dac_override,-dac_read_search"
AS_A_USER = (
    ("setpriv", f"--bounding-set={_FILE_CAPS}", f"--inh-caps={_FILE_CAPS}")
    if os.geteuid() == 0
    else ()
)


def test_an_unreadable_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///crm.db"\n', encoding="utf-8")
    config.chmod(0)
    result = run_crm("customer", "list", cwd=tmp_path, prefix=AS_A_USER)
    assert result.returncode == 1
    assert one_error_line(result) == (
        "Error: cannot read config file config.toml: Permission denied"
    )
    assert not (tmp_path / "crm.db").exists()


@pytest.mark.parametrize(
    ("broker", "says"),
    [
        ("redis://127.0.0.1:1/0", "cannot use the broker at redis://127.0.0.1:1/0: Error 111"),
        (
            REDIS_URL.replace("redis://", "redis://nobody:wrong-pw@"),
            "invalid username-password pair",
        ),
        ("redis://:99999/7", "broker.url: the port must be a number from 1 to 65535"),
    ],
    ids=["down", "wrong password", "bad port"],
)
def test_a_broker_that_cannot_be_used_is_one_line(
    sqlite_database: Database, broker: str, says: str
) -> None:
    env = {**sqlite_database.env(), "CRM_BROKER_URL": broker}
    before = snapshot(sqlite_database)
    for args in (("import", "mbox", SAMPLE), ("ingest", "resume")):
        result = run_crm(*args, env=env)
        assert result.returncode == 1
        line = one_error_line(result)
        assert says in line, line
        assert "wrong-pw" not in line
    assert snapshot(sqlite_database) == before


@pytest.fixture(scope="module")
def guarded_redis() -> Iterator[int]:
    """A Redis of our own that wants a password (the shared one has none), on a free port."""
    port = free_port()
    with private_redis(port, "--requirepass", "right-pw"):
        yield port


@pytest.mark.parametrize(
    ("credentials", "says"),
    [
        (":wrong-pw@", "invalid username-password pair"),
        ("", "must be called with the client already authenticated"),
    ],
    ids=["wrong password", "no password"],
)
def test_a_redis_that_refuses_the_password_is_one_line(
    sqlite_database: Database, guarded_redis: int, credentials: str, says: str
) -> None:
    broker = f"redis://{credentials}127.0.0.1:{guarded_redis}/0"
    env = {**sqlite_database.env(), "CRM_BROKER_URL": broker}
    for args in (("import", "mbox", SAMPLE), ("ingest", "resume")):
        result = run_crm(*args, env=env)
        assert result.returncode == 1
        line = one_error_line(result)
        assert says in line and "(check the password in broker.url)" in line, line
        assert "wrong-pw" not in line


LINKERS = 8  # tests/core/test_concurrent_links.py runs 16 threads in lock step


def test_processes_link_leads_to_one_customer_at_once(pg_database: Database) -> None:
    processes = [
        subprocess.Popen(
            [*CRM, "lead", "create", "--name", f"Lead {n}", "--email", "same@x.dk", "--link"],
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
                **pg_database.env(),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in range(LINKERS)
    ]
    failures = []
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append(stderr.decode())
    assert failures == []
    with pg_database.sessions() as session:
        customer = session.execute(select(Customer)).scalar_one()
        leads = session.execute(select(Lead.customer_id)).scalars().all()
    assert customer.total_leads == LINKERS
    assert leads == [customer.id] * LINKERS
