"""What stops a reply: each a clear outcome, nothing sent."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Database
from tests.gmail.conftest import MAILBOX, write_token_file
from tests.gmail_fake import FakeGmailServer
from tests.replies.conftest import (
    READ,
    Crm,
    Mailbox,
    conversation_of,
    customer_writes,
    reply_row,
)

BODY = "Hej,\n\nVi har modtaget din forespørgsel.\n"


def _customer_of(crm: Crm, n: int = 1) -> str:
    found = crm.json("customer", "list")
    rows = found["customers"] if isinstance(found, dict) else found
    return next(str(c["id"]) for c in rows if c["email"] == f"kunde{n}@example.net")


def test_daily_cap_holds_replies_queued_with_the_reason(
    crm: Crm, database: Database, gmail_server: FakeGmailServer, mailbox: Mailbox
) -> None:
    threads = [customer_writes(gmail_server, n) for n in (1, 2, 3)]
    crm.run("sync")
    sender = crm.with_mode("send", max_per_day=2)

    states = [sender.reply(conversation_of(database, t), BODY)["state"] for t in threads]

    assert states == ["sent", "sent", "queued"]
    assert len(mailbox.sent) == 2
    (waiting,) = sender.json("reply", "list", "--pending")["replies"]
    assert "daily cap reached: 2 of 2" in waiting["reason"]
    status = sender.json("status")
    assert "replies" in status["needs_attention"]
    assert "daily cap" in status["replies"][MAILBOX]["waiting_reason"]
    # A larger cap, and the reply waiting goes out.
    sender.with_mode("send", max_per_day=3).run("reply", "resume")
    assert len(mailbox.sent) == 3
    assert reply_row(database, waiting["id"]).state.value == "sent"


def test_blocked_customer_is_never_written_to(
    crm: Crm, database: Database, gmail_server: FakeGmailServer, mailbox: Mailbox
) -> None:
    thread = customer_writes(gmail_server)
    crm.run("sync")
    conversation = conversation_of(database, thread)
    drafted = crm.reply(conversation, BODY)  # before the block: a draft waits
    customer = _customer_of(crm)
    crm.run("customer", "update", customer, "--status", "blocked")

    error = crm.fails("reply", conversation, "--body-file", "-", stdin=BODY)
    assert "is blocked: nothing is sent to them" in error
    approved = crm.json("reply", "approve", drafted["id"])
    assert approved["state"] == "failed" and "blocked" in approved["reason"]
    assert mailbox.sent == []


def test_without_the_send_scope_replies_wait_and_status_says_what_to_do(
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    tmp_path: Path,
) -> None:
    thread = customer_writes(gmail_server)
    crm.run("sync")
    read_only = gmail_server.add_user(MAILBOX, scopes=(READ,))
    write_token_file(gmail_server, read_only, mailbox.token_file)

    reply = crm.with_mode("send").reply(conversation_of(database, thread), BODY)

    assert reply["state"] == "queued"
    hint = f"run `crm gmail auth {MAILBOX} --send`"
    assert hint in reply["reason"]
    assert mailbox.sent == []
    assert hint in crm.run("status").stdout
    write_token_file(gmail_server, mailbox.refresh_token, mailbox.token_file)  # granted
    crm.with_mode("send").run("reply", "resume")
    assert reply_row(database, reply["id"]).state.value == "sent"
    assert len(mailbox.sent) == 1


def test_invalid_recipient_fails_with_gmails_reason(
    crm: Crm, database: Database, gmail_server: FakeGmailServer, mailbox: Mailbox
) -> None:
    thread = customer_writes(gmail_server)
    crm.run("sync")
    gmail_server.refuse_recipient(MAILBOX, "kunde1@example.net")

    reply = crm.with_mode("send").reply(conversation_of(database, thread), BODY)

    assert reply["state"] == "failed"
    assert "HTTP 400" in reply["reason"] and "Invalid To header" in reply["reason"]
    assert mailbox.sent == []
    assert "Invalid To header" in crm.run("status").stdout


def test_our_own_address_is_never_replied_to(
    crm: Crm, database: Database, gmail_server: FakeGmailServer, mailbox: Mailbox
) -> None:
    thread = customer_writes(gmail_server)
    crm.run("sync")
    customer = _customer_of(crm)
    crm.run("customer", "update", customer, "--email", "kontor@rendetalje.dk")

    error = crm.fails("reply", conversation_of(database, thread), "--body-file", "-", stdin=BODY)

    assert "kontor@rendetalje.dk is one of our own addresses" in error
    assert mailbox.sent == [] and gmail_server.drafts(MAILBOX) == []
    assert crm.json("reply", "list")["total"] == 0
