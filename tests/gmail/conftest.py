"""Syncing against the fake Gmail server through the real google-api-python-client."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_core.models import EmailMessage, Mailbox, ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from tests.gmail_fake import FakeGmailServer
from tests.gmail_fake import fixtures as gmail_fixtures
from tests.ingest.conftest import settings_for
from worker.gmail.calls import RetryPolicy
from worker.gmail.report import SyncReport
from worker.gmail.session import SyncOptions
from worker.gmail.sync import sync_mailbox
from worker.jobs.broker import install_broker
from worker.runtime import Runtime, use_settings

gmail_server = gmail_fixtures.gmail_server  # the shared fixture

MAILBOX = "info@rendetalje.dk"
FAST = SyncOptions(retry=RetryPolicy(attempts=12, initial=0.01, maximum=0.2, jitter=0.01))


@dataclass
class Account:
    address: str
    refresh_token: str
    token_file: Path


def write_token_file(server: FakeGmailServer, refresh_token: str, path: Path) -> Path:
    """The authorized-user JSON `crm gmail auth` writes, for the fake's OAuth client."""
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {
        "type": "authorized_user",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "refresh_token": refresh_token,
        "token_uri": server.token_uri,
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(info, handle)
    return path


@pytest.fixture
def account(gmail_server: FakeGmailServer, tmp_path: Path) -> Account:
    refresh = gmail_server.add_user(MAILBOX)
    token_file = write_token_file(gmail_server, refresh, tmp_path / "tokens" / f"{MAILBOX}.json")
    return Account(MAILBOX, refresh, token_file)


def gmail_settings(
    database: Database, server: FakeGmailServer, token_dir: Path, **gmail: Any
) -> Any:
    return settings_for(
        database,
        gmail={
            "api_endpoint": server.url,
            "token_dir": str(token_dir),
            "quota_units_per_second": 100_000,
            **gmail,
        },
        mailboxes=[{"address": MAILBOX}],
    )


@pytest.fixture
def runtime(database: Database, gmail_server: FakeGmailServer, account: Account) -> Runtime:
    """Jobs inline, Gmail at the fake, the account's token file in place."""
    settings = gmail_settings(database, gmail_server, account.token_file.parent)
    runtime = use_settings(settings)
    install_broker(settings)
    return runtime


def sync(runtime: Runtime, *, full: bool = False, options: SyncOptions = FAST) -> SyncReport:
    report = sync_mailbox(runtime, MAILBOX, full=full, options=options)
    return report


# --------------------------------------------------------------------------- messages


def customer_mail(
    n: int,
    *,
    subject: str | None = None,
    in_reply_to: str | None = None,
    when: datetime | None = None,
    body: str = "Hej, kan I gøre rent hos os på fredag? Mvh",
) -> bytes:
    moment = when or datetime(2025, 3, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=n)
    lines = [
        f"From: Kunde {n} <kunde{n}@example.net>",
        f"To: Rendetalje <{MAILBOX}>",
        f"Subject: {subject or f'Rengøring {n}'}",
        f"Message-ID: <mail{n}@example.net>",
        f"Date: {format_datetime(moment)}",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode("utf-8")


def deliver_customers(server: FakeGmailServer, numbers: range, **kwargs: Any) -> list[str]:
    return [server.deliver(MAILBOX, customer_mail(n), **kwargs) for n in numbers]


# --------------------------------------------------------------------------- ledger


def ledger(runtime: Runtime) -> dict[str, ReceivedMessage]:
    with runtime.sessions() as session:
        rows = session.execute(select(ReceivedMessage)).scalars()
        return {row.gmail_message_id: row for row in rows}


def emails_per_gmail_id(runtime: Runtime) -> Counter[str]:
    """How many EmailMessage rows each Gmail id has (one each, when all is well)."""
    with runtime.sessions() as session:
        return Counter(session.execute(select(EmailMessage.gmail_message_id)).scalars())


def outcomes(runtime: Runtime) -> dict[str, IngestOutcome]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(ReceivedMessage.gmail_message_id, ReceivedMessage.outcome)
        ).all()
    return {gmail_id: outcome for gmail_id, outcome in rows}


def stored_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.execute(select(func.count()).select_from(EmailMessage)).scalar_one())


def mailbox_row(runtime: Runtime) -> Mailbox:
    with runtime.sessions() as session:
        row = session.execute(select(Mailbox).where(Mailbox.address == MAILBOX)).scalar_one()
        session.expunge(row)
        return row
