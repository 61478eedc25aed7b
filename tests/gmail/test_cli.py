"""`crm sync`, `crm audit` and `crm replay-thread` in-process, against the fake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from crm_core.db import transaction
from crm_core.mailboxes import mark_needs_reauth
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX, Account, customer_mail, deliver_customers, ledger
from tests.gmail_fake import FakeGmailServer
from worker.cli.main import app
from worker.runtime import Runtime


class Crm:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.runner = CliRunner()

    def run(self, *args: str, code: int = 0) -> Result:
        result = self.runner.invoke(app, ["--config", str(self.config), *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, result.output
        return result

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self.run(*args, "--json", code=code).stdout)


@pytest.fixture
def crm(
    database: Database,
    gmail_server: FakeGmailServer,
    account: Account,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Crm:
    monkeypatch.chdir(tmp_path)
    schema = f'pg_schema = "{database.schema}"\n' if database.schema else ""
    config = tmp_path / "crm.toml"
    config.write_text(
        f'[database]\nurl = "{database.url}"\n{schema}\n'
        f'[gmail]\napi_endpoint = "{gmail_server.url}"\n'
        f'token_dir = "{account.token_file.parent}"\nquota_units_per_second = 100000\n\n'
        f'[[mailboxes]]\naddress = "{MAILBOX}"\n'
    )
    return Crm(config)


def test_crm_sync_prints_counts(crm: Crm, gmail_server: FakeGmailServer) -> None:
    deliver_customers(gmail_server, range(12))

    (full,) = crm.json("sync", "--mailbox", MAILBOX.upper())
    assert (full["kind"], full["listed"], full["fetched"], full["staged"]) == ("full", 12, 12, 12)
    assert full["units"] == {"getProfile": 1, "messages.list": 5, "messages.get": 60}
    assert full["total_units"] == 66 and full["units_per_fetched"] == 5.5

    deliver_customers(gmail_server, range(12, 15))
    text = crm.run("sync").stdout
    assert "Synced info@rendetalje.dk: partial" in text
    assert "Fetched:" in text and "Quota units:" in text and "per fetched message" in text

    (again,) = crm.json("sync", "--full")
    assert (again["known"], again["fetched"]) == (15, 0)


def test_crm_sync_reports_needs_reauth(
    crm: Crm, runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    with transaction(runtime.sessions) as session:
        mark_needs_reauth(session, MAILBOX, "authorisation revoked or expired: run it")
    result = crm.run("sync", code=1)
    assert "authorisation revoked or expired" in result.stderr
    assert gmail_server.stats().http_requests == 0


def test_crm_audit_finds_missing_and_clean(crm: Crm, gmail_server: FakeGmailServer) -> None:
    deliver_customers(gmail_server, range(5))
    gmail_server.deliver(MAILBOX, customer_mail(99), labels=["TRASH"])
    crm.run("sync")
    (clean,) = crm.json("audit")
    assert clean["clean"] and clean["listed"] == 6 and clean["missing"] == []
    assert clean["outcomes"] == {"skipped": 1, "stored": 5}
    assert "every message accounted for" in crm.run("audit").stdout

    late = gmail_server.deliver(MAILBOX, customer_mail(100))
    (dirty,) = crm.json("audit", code=1)
    assert dirty["missing"] == [late] and not dirty["clean"]
    assert late in crm.run("audit", code=1).stdout


def test_crm_replay_thread_fetches_what_is_missing(
    crm: Crm, runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    first = gmail_server.deliver(MAILBOX, customer_mail(1))
    thread_id = gmail_server.mailbox(MAILBOX).message(first).thread_id
    second = gmail_server.deliver(MAILBOX, customer_mail(2, in_reply_to="mail1@example.net"))
    crm.run("sync")
    # Arrived after the sync, and the next sync has not run yet.
    third = gmail_server.deliver(MAILBOX, customer_mail(3, in_reply_to="mail2@example.net"))
    gmail_server.reset_stats()

    result = crm.json("replay-thread", thread_id, "--mailbox", MAILBOX)

    assert (result["messages_before"], result["messages_after"]) == (2, 3)
    assert (result["fetched"], result["staged"], result["units"]) == (1, 1, 15)
    assert [m["gmail_message_id"] for m in result["messages"]] == [first, second, third]
    assert [(m["before"], m["after"]) for m in result["messages"]] == [
        ("stored", "stored"),
        ("stored", "stored"),
        (None, "stored"),
    ]
    stats = gmail_server.stats()
    assert stats.calls(MAILBOX, "threads.get") == 1 and stats.calls(MAILBOX, "messages.get") == 1
    assert ledger(runtime)[third].outcome is IngestOutcome.STORED
    assert "Replayed thread" in crm.run("replay-thread", thread_id).stdout


def test_crm_replay_thread_unknown_thread(crm: Crm) -> None:
    result = crm.run("replay-thread", "ffff", code=1)
    assert "no thread ffff in info@rendetalje.dk" in result.stderr
