"""Replies through the fake Gmail server, with the real client library.

A customer writes to the mailbox, a sync files the conversation, and `crm reply …`
answers it; the fake keeps what was sent, drafted and edited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from crm_core.models import Conversation, EmailMessage, OutboundReply
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX, customer_mail, write_token_file
from tests.gmail_fake import FakeGmailServer
from tests.gmail_fake import fixtures as gmail_fixtures
from worker.cli.main import app

gmail_server = gmail_fixtures.gmail_server

READ = "https://www.googleapis.com/auth/gmail.readonly"
SEND = "https://www.googleapis.com/auth/gmail.send"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"


def config_text(
    database: Database,
    server: FakeGmailServer,
    token_dir: Path,
    *,
    broker: str = "inline",
    namespace: str = "crm",
    mode: str = "draft",
    max_per_day: int = 400,
    lookup_window: float = 3,
) -> str:
    schema = f'pg_schema = "{database.schema}"\n' if database.schema else ""
    return (
        f'[database]\nurl = "{database.url}"\n{schema}\n'
        f'[broker]\nurl = "{broker}"\nnamespace = "{namespace}"\n'
        "heartbeat_timeout_ms = 3000\nmaintenance_chance = 200000\n\n"
        "[worker]\nmax_retries = 3\nmin_backoff_ms = 100\nmax_backoff_ms = 1000\n\n"
        "[metrics]\nworker_port = 0\nworker_health_port = 0\n\n"
        f'[gmail]\napi_endpoint = "{server.url}"\ntoken_dir = "{token_dir}"\n'
        "quota_units_per_second = 100000\n\n"
        f'[sending]\nmode = "{mode}"\nmax_per_day = {max_per_day}\n'
        f"lookup_window_seconds = {lookup_window}\n\n"
        f'[[mailboxes]]\naddress = "{MAILBOX}"\n'
    )


class Crm:
    """`crm --config FILE …` in-process."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.runner = CliRunner()

    def run(self, *args: str, code: int = 0, stdin: str | None = None) -> Result:
        result = self.runner.invoke(app, ["--config", str(self.config), *args], input=stdin)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, result.output
        return result

    def json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.run(*args, "--json", stdin=stdin).stdout)

    def fails(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, code=1, stdin=stdin)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        return lines[0]

    def reply(self, conversation_id: str, body: str, *extra: str) -> dict[str, Any]:
        return dict(self.json("reply", conversation_id, "--body-file", "-", *extra, stdin=body))

    def with_mode(self, mode: str, **settings: Any) -> Crm:
        text = self.config.read_text(encoding="utf-8")
        start = text.index("[sending]")
        end = text.index("\n\n", start)
        lines = [f'mode = "{mode}"'] + [f"{key} = {value}" for key, value in settings.items()]
        keep = [
            line
            for line in text[start:end].splitlines()[1:]
            if line.split(" = ")[0] not in {"mode", *settings}
        ]
        section = "\n".join(["[sending]", *lines, *keep])
        path = self.config.with_name(f"crm-{mode}.toml")
        path.write_text(text[:start] + section + text[end:], encoding="utf-8")
        return Crm(path)


@dataclass
class Mailbox:
    server: FakeGmailServer
    refresh_token: str
    token_file: Path

    @property
    def sent(self) -> list[str]:
        return self.server.sent_messages(MAILBOX)

    def raw(self, gmail_id: str) -> bytes:
        return self.server.mailbox(MAILBOX).message(gmail_id).raw


def add_mailbox(server: FakeGmailServer, tmp_path: Path, scopes: tuple[str, ...]) -> Mailbox:
    refresh = server.add_user(MAILBOX, scopes=scopes)
    token_file = write_token_file(server, refresh, tmp_path / "tokens" / f"{MAILBOX}.json")
    return Mailbox(server, refresh, token_file)


@pytest.fixture
def mailbox(gmail_server: FakeGmailServer, tmp_path: Path) -> Mailbox:
    """The company mailbox on the fake, authorised to read, send and draft."""
    return add_mailbox(gmail_server, tmp_path, (READ, SEND, COMPOSE))


@pytest.fixture
def crm(
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Crm]:
    monkeypatch.chdir(tmp_path)
    for key in ("CRM_CONFIG", "CRM_DATABASE_URL", "CRM_DATABASE_PG_SCHEMA"):
        monkeypatch.delenv(key, raising=False)
    config = tmp_path / "crm.toml"
    config.write_text(config_text(database, gmail_server, mailbox.token_file.parent))
    yield Crm(config)


def customer_writes(server: FakeGmailServer, n: int = 1, **kwargs: Any) -> str:
    """A customer's mail arrives; returns its Gmail thread id."""
    gmail_id = server.deliver(MAILBOX, customer_mail(n, **kwargs))
    return server.mailbox(MAILBOX).message(gmail_id).thread_id


@pytest.fixture
def thread(crm: Crm, gmail_server: FakeGmailServer) -> str:
    """A customer's mail, filed by a sync: its Gmail thread id."""
    thread_id = customer_writes(gmail_server)
    crm.run("sync")
    return thread_id


@pytest.fixture
def conversation(database: Database, thread: str) -> str:
    """The conversation the sync filed the customer's mail in."""
    return conversation_of(database, thread)


def conversation_of(database: Database, thread_id: str) -> str:
    with database.sessions() as session:
        return str(
            session.execute(
                select(Conversation.id).where(Conversation.gmail_thread_id == thread_id)
            ).scalar_one()
        )


def messages_of(database: Database, conversation_id: str) -> list[EmailMessage]:
    with database.sessions() as session:
        rows = list(
            session.execute(
                select(EmailMessage)
                .where(EmailMessage.conversation_id == conversation_id)
                .order_by(EmailMessage.sent_at)
            ).scalars()
        )
        session.expunge_all()
        return rows


def reply_settled_in_thread(database: Database, conversation_id: str) -> list[EmailMessage]:
    """The conversation's messages, asserting the customer's mail and one sent reply:
    the reply's sent copy became the reply's own row, not a second one."""
    rows = messages_of(database, conversation_id)
    assert [(m.direction.value, m.status.value) for m in rows] == [
        ("inbound", "sent"),
        ("outbound", "sent"),
    ]
    return rows


def reply_row(database: Database, reply_id: str) -> OutboundReply:
    with database.sessions() as session:
        row = session.get(OutboundReply, reply_id)
        assert row is not None
        session.expunge(row)
        return row
