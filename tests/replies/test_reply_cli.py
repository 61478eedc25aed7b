"""`crm reply` end to end on SQLite and PostgreSQL, jobs inline, Gmail at the fake."""

from __future__ import annotations

from email import message_from_bytes, policy

from tests.conftest import Database
from tests.gmail.conftest import MAILBOX
from tests.gmail_fake import FakeGmailServer
from tests.replies.conftest import (
    Crm,
    Mailbox,
    conversation_of,
    customer_writes,
    messages_of,
    reply_row,
)

BODY = "Hej Kunde,\n\nVi kommer fredag kl. 9. Venlig hilsen\nRendetalje — æøå ÆØÅ\n"


def test_send_mode_sends_once_and_the_sync_keeps_one_row(
    crm: Crm, database: Database, gmail_server: FakeGmailServer, mailbox: Mailbox
) -> None:
    thread = customer_writes(gmail_server)
    crm.run("sync")
    conversation = conversation_of(database, thread)
    sender = crm.with_mode("send")

    reply = sender.reply(conversation, BODY, "--ai-model", "gemini-1.5-pro")

    assert reply["state"] == "sent" and reply["mode"] == "send"
    (sent,) = mailbox.sent
    assert reply["gmail_message_id"] == sent
    copy = gmail_server.mailbox(MAILBOX).message(sent)
    assert copy.thread_id == thread and "SENT" in copy.labels
    mime = message_from_bytes(mailbox.raw(sent), policy=policy.default)
    assert mime["Subject"] == "Re: Rengøring 1"
    assert mime["In-Reply-To"] == "<mail1@example.net>"
    assert mime.get_content_charset() == "utf-8"
    assert mime.get_content().replace("\r\n", "\n") == BODY

    crm.run("sync")
    rows = messages_of(database, conversation)
    assert [(m.direction.value, m.status.value) for m in rows] == [
        ("inbound", "sent"),
        ("outbound", "sent"),
    ]
    ours = rows[1]
    assert ours.id == reply["id"] and ours.gmail_message_id == sent
    assert ours.is_ai_generated and ours.ai_model == "gemini-1.5-pro"
    assert ours.body == BODY
    assert reply_row(database, reply["id"]).sent_at is not None
