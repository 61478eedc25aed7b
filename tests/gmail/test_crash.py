"""A sync that dies half-way loses nothing and doubles nothing when run again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_core.models import ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from tests.gmail.conftest import (
    MAILBOX,
    Account,
    deliver_customers,
    emails_per_gmail_id,
    ledger,
    mailbox_row,
    outcomes,
    stored_count,
    sync,
)
from tests.gmail_fake import FakeGmailServer
from tests.processes import stop, wait_for
from worker.gmail import sync_steps
from worker.runtime import Runtime

# A sync's batches start at one message and double while the mail is small.
FIRST_FIVE_BATCHES = 1 + 2 + 4 + 8 + 16


class Killed(Exception):
    pass


def die_after(monkeypatch: pytest.MonkeyPatch, batches: int) -> None:
    """Staging raises once ``batches`` batches are staged, as if the process died."""
    stage = sync_steps.stage_fetched
    calls = Counter[str]()

    def stage_or_die(*args: Any) -> list[str]:
        calls["n"] += 1
        if calls["n"] > batches:
            raise Killed("killed")
        return stage(*args)

    monkeypatch.setattr(sync_steps, "stage_fetched", stage_or_die)


def test_full_sync_dies_half_way_then_resumes(
    runtime: Runtime, gmail_server: FakeGmailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = deliver_customers(gmail_server, range(150))
    with monkeypatch.context() as patched:
        die_after(patched, 5)
        with pytest.raises(Killed):
            sync(runtime)
    assert len(ledger(runtime)) == FIRST_FIVE_BATCHES
    row = mailbox_row(runtime)
    assert row.history_id is None and row.lease_owner is None
    assert row.last_error == "Killed: killed"

    gmail_server.reset_stats()
    report = sync(runtime)

    rest = 150 - FIRST_FIVE_BATCHES
    assert (report.known, report.fetched, report.staged) == (FIRST_FIVE_BATCHES, rest, rest)
    assert gmail_server.stats().calls(MAILBOX, "messages.get") == rest
    assert set(outcomes(runtime)) == set(ids)
    assert set(outcomes(runtime).values()) == {IngestOutcome.STORED}
    assert emails_per_gmail_id(runtime) == Counter(ids)
    assert mailbox_row(runtime).last_error is None


def test_partial_sync_dies_half_way_then_resumes(
    runtime: Runtime, gmail_server: FakeGmailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = deliver_customers(gmail_server, range(20))
    sync(runtime)
    cursor = mailbox_row(runtime).history_id
    second = deliver_customers(gmail_server, range(20, 110))
    with monkeypatch.context() as patched:
        die_after(patched, 5)
        with pytest.raises(Killed):
            sync(runtime)
    assert mailbox_row(runtime).history_id == cursor  # the page was not finished
    assert len(ledger(runtime)) == 20 + FIRST_FIVE_BATCHES

    gmail_server.reset_stats()
    report = sync(runtime)

    rest = 90 - FIRST_FIVE_BATCHES
    assert (report.kind, report.known, report.fetched) == ("partial", FIRST_FIVE_BATCHES, rest)
    assert gmail_server.stats().calls(MAILBOX, "messages.get") == rest
    assert emails_per_gmail_id(runtime) == Counter([*first, *second])
    assert mailbox_row(runtime).history_id == gmail_server.history_id(MAILBOX)


# --------------------------------------------------------------------------- SIGKILL


def write_sync_config(
    path: Path, database: Database, server: FakeGmailServer, account: Account, rate: int
) -> Path:
    schema = f'pg_schema = "{database.schema}"\n' if database.schema else ""
    path.write_text(
        f'[database]\nurl = "{database.url}"\n{schema}\n'
        '[broker]\nurl = "inline"\n\n'
        f'[gmail]\napi_endpoint = "{server.url}"\ntoken_dir = "{account.token_file.parent}"\n'
        f"quota_units_per_second = {rate}\n\n"
        f'[[mailboxes]]\naddress = "{MAILBOX}"\n'
    )
    return path


def crm_sync(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "worker.cli.main", "--config", str(config), "sync", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def ledger_size(database: Database) -> int:
    with database.sessions() as session:
        return int(session.execute(select(func.count()).select_from(ReceivedMessage)).scalar_one())


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_crm_sync_killed_then_run_again(
    database: Database,
    gmail_server: FakeGmailServer,
    account: Account,
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    ids = deliver_customers(gmail_server, range(400))
    gmail_server.set_quota(1000)  # about 200 messages a second: time to kill it
    config = write_sync_config(tmp_path / "crm.toml", database, gmail_server, account, 1000)

    process = crm_sync(config)
    try:
        wait_for(lambda: ledger_size(database) >= 100, 60, 0.05, "100 staged messages")
    finally:
        stop(process, signal.SIGKILL)
    staged_before = ledger_size(database)
    assert 100 <= staged_before < 400
    assert mailbox_row(runtime).lease_owner is not None  # the dead process still holds it

    gmail_server.reset_stats()
    again = crm_sync(config)
    output, _ = again.communicate(timeout=120)
    assert again.returncode == 0, output.decode()
    (report,) = json.loads(output)

    assert report["status"] == "ok"
    assert report["known"] == staged_before
    assert report["fetched"] == 400 - staged_before
    served = gmail_server.served_messages()  # a throttled call retried counts once
    assert len(served) == 400 - staged_before and set(served.values()) == {1}
    assert set(outcomes(runtime)) == set(ids)
    assert set(outcomes(runtime).values()) == {IngestOutcome.STORED}
    assert emails_per_gmail_id(runtime) == Counter(ids)
    assert stored_count(runtime) == 400
