"""Replies through `crm` processes on PostgreSQL with `crm worker` on Redis.

The commands only record and enqueue; the worker drafts and sends. And a worker
SIGKILLed between Gmail's answer and its commit leaves exactly one mail in the
mailbox and one row after the next sync: the next worker looks the send up instead
of sending again.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from crm_core.models import EmailMessage, OutboundReply
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX
from tests.gmail_fake import FakeGmailServer
from tests.processes import REDIS_URL, clear_namespace, crm, daemon, new_namespace, stop, wait_for
from tests.replies.conftest import (
    Crm,
    Mailbox,
    config_text,
    conversation_of,
    customer_writes,
    messages_of,
)

BODY = "Hej,\n\nVi bekræfter rengøringen på torsdag. Mvh Rendetalje\n"

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


@pytest.fixture
def namespace() -> Iterator[str]:
    name = new_namespace()
    yield name
    clear_namespace(name)


def _config(
    tmp_path: Path,
    database: Database,
    server: FakeGmailServer,
    mailbox: Mailbox,
    namespace: str,
    mode: str,
) -> Path:
    path = tmp_path / f"crm-{mode}.toml"
    path.write_text(
        config_text(
            database,
            server,
            mailbox.token_file.parent,
            broker=REDIS_URL,
            namespace=namespace,
            mode=mode,
        )
    )
    return path


def _state(database: Database, reply_id: str) -> str:
    with database.sessions() as session:
        row = session.get(OutboundReply, reply_id)
        return row.state.value if row else "?"


def _reply(config: Path, conversation: str, body_file: Path) -> dict[str, object]:
    result = crm(config, "reply", conversation, "--body-file", str(body_file), "--json")
    return dict(json.loads(result.stdout))


def _synced(sync: Callable[[], object], database: Database, threads: list[str]) -> list[str]:
    """Sync, and wait for the worker to file the threads; their conversations."""
    sync()
    found: dict[str, str] = {}

    def filed() -> bool:
        for thread in threads:
            try:
                found[thread] = conversation_of(database, thread)
            except Exception:
                return False
        return True

    wait_for(filed, 60, what="the customer's mail filed by the worker")
    return [found[t] for t in threads]


def test_send_draft_approve_cancel_and_dry_run_with_workers(
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    namespace: str,
    tmp_path: Path,
) -> None:
    """The commands run in-process (`crm` as CliRunner runs it), the worker as a process."""
    config = _config(tmp_path, database, gmail_server, mailbox, namespace, "draft")
    draft = Crm(config)
    threads = [customer_writes(gmail_server, n) for n in (1, 2, 3, 4)]
    with daemon(config, "worker", "-p", "1", "-t", "2", log=tmp_path / "worker.log"):
        conversations = _synced(lambda: draft.run("sync"), database, threads)

        sent = draft.with_mode("send").reply(conversations[0], BODY)
        assert sent["state"] == "queued"  # the command only records and enqueues
        wait_for(lambda: _state(database, str(sent["id"])) == "sent", 60, what="sent")

        drafted = draft.reply(conversations[1], BODY)
        wait_for(lambda: _state(database, str(drafted["id"])) == "drafted", 60, what="draft")
        draft.run("reply", "approve", str(drafted["id"]))
        wait_for(lambda: _state(database, str(drafted["id"])) == "sent", 60, what="approved")

        cancelled = draft.reply(conversations[2], BODY)
        wait_for(lambda: _state(database, str(cancelled["id"])) == "drafted", 60, what="draft")
        assert len(gmail_server.drafts(MAILBOX)) == 1
        draft.run("reply", "cancel", str(cancelled["id"]))
        wait_for(lambda: gmail_server.drafts(MAILBOX) == [], 60, what="draft deleted")

        dry = draft.with_mode("dry-run").reply(conversations[3], BODY)
        assert dry["state"] == "dry_run"

        draft.run("sync")
        wait_for(
            lambda: all(len(messages_of(database, c)) == 2 for c in conversations[:2]),
            60,
            what="the sent copies filed",
        )
    assert len(mailbox.sent) == 2
    assert _state(database, str(cancelled["id"])) == "cancelled"
    assert _state(database, str(dry["id"])) == "dry_run"
    for conversation in conversations[:2]:
        rows = messages_of(database, conversation)
        assert [(m.direction.value, m.status.value) for m in rows] == [
            ("inbound", "sent"),
            ("outbound", "sent"),
        ]
    assert draft.json("reply", "list")["total"] == 4


def test_worker_killed_between_gmails_answer_and_its_commit(
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    namespace: str,
    tmp_path: Path,
) -> None:
    """The commands and the workers run as processes, as a user and systemd run them."""
    config = _config(tmp_path, database, gmail_server, mailbox, namespace, "send")
    thread = customer_writes(gmail_server)
    body = tmp_path / "body.txt"
    body.write_text(BODY, encoding="utf-8")
    gmail_server.queue_fault("messages.send", None, delay=5.0)  # time to hold the row
    first = daemon(config, "worker", "-p", "1", "-t", "1", log=tmp_path / "worker1.log")
    worker = first.__enter__()
    try:
        (conversation,) = _synced(lambda: crm(config, "sync"), database, [thread])
        reply = _reply(config, conversation, body)
        reply_id = str(reply["id"])
        wait_for(lambda: _state(database, reply_id) == "sending", 60, 0.02, what="sending")
        with database.engine.connect() as holder:
            # The worker's commit of Gmail's answer waits for this row lock...
            locked = holder.execute(
                text("SELECT state FROM outbound_replies WHERE id = :id FOR UPDATE"),
                {"id": reply_id},
            ).scalar_one()
            assert (locked, mailbox.sent) == ("sending", [])  # held before Gmail answers
            wait_for(lambda: len(mailbox.sent) == 1, 30, 0.02, what="Gmail to accept it")
            time.sleep(1.5)  # ...its answer has arrived; the worker is waiting on us
            stop(worker, signal.SIGKILL)
            holder.rollback()
    finally:
        first.__exit__(None, None, None)
    assert _state(database, reply_id) == "sending"  # nothing recorded the answer

    with daemon(config, "worker", "-p", "1", "-t", "1", log=tmp_path / "worker2.log"):
        wait_for(lambda: _state(database, reply_id) == "sent", 60, what="the send looked up")
        crm(config, "sync")
        time.sleep(1.0)
    assert len(mailbox.sent) == 1
    rows = messages_of(database, conversation)
    assert [(m.direction.value, m.status.value) for m in rows] == [
        ("inbound", "sent"),
        ("outbound", "sent"),
    ]
    with database.sessions() as session:
        stored = session.execute(select(EmailMessage.gmail_message_id)).scalars().all()
    assert sorted(stored, key=str).count(mailbox.sent[0]) == 1
