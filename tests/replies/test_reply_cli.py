"""`crm reply` end to end on SQLite and PostgreSQL, jobs inline, Gmail at the fake."""

from __future__ import annotations

from email import message_from_bytes, policy

from crm_core import services
from crm_core.db import transaction
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX
from tests.gmail_fake import FakeGmailServer
from tests.replies.conftest import (
    Crm,
    Mailbox,
    messages_of,
    reply_row,
    reply_settled_in_thread,
)

BODY = "Hej Kunde,\n\nVi kommer fredag kl. 9. Venlig hilsen\nRendetalje — æøå ÆØÅ\n"


def test_send_mode_sends_once_and_the_sync_keeps_one_row(
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    thread: str,
    conversation: str,
) -> None:
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
    rows = reply_settled_in_thread(database, conversation)
    ours = rows[1]
    assert ours.id == reply["id"] and ours.gmail_message_id == sent
    assert ours.is_ai_generated and ours.ai_model == "gemini-1.5-pro"
    assert ours.body == BODY
    assert reply_row(database, reply["id"]).sent_at is not None


def test_draft_mode_makes_a_gmail_draft_and_approve_sends_it(
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    thread: str,
    conversation: str,
) -> None:
    reply = crm.reply(conversation, BODY)

    assert (reply["state"], reply["mode"]) == ("drafted", "draft")
    assert mailbox.sent == [] and len(gmail_server.drafts(MAILBOX)) == 1
    row = reply_row(database, reply["id"])
    draft = gmail_server.mailbox(MAILBOX).message(row.draft_message_id or "")
    assert draft.thread_id == thread and draft.labels == ["DRAFT"]
    (pending,) = crm.json("reply", "list", "--pending")["replies"]
    assert pending["id"] == reply["id"] and pending["state"] == "drafted"
    crm.run("sync")  # the draft is skipped (label DRAFT), the reply not yet sent
    assert [m.status.value for m in messages_of(database, conversation)] == ["sent", "draft"]

    approved = crm.json("reply", "approve", reply["id"])

    assert approved["state"] == "sent"
    assert mailbox.sent == [approved["gmail_message_id"]] and gmail_server.drafts(MAILBOX) == []
    crm.run("sync")
    reply_settled_in_thread(database, conversation)
    assert crm.json("reply", "list", "--pending") == {"total": 0, "replies": []}


def test_a_draft_edited_and_sent_by_a_person_merges_into_the_reply(
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    conversation: str,
) -> None:
    reply = crm.reply(conversation, BODY, "--ai-model", "gemini-1.5-pro")
    (draft,) = gmail_server.drafts(MAILBOX)
    edited = "Hej Kunde,\n\nVi kommer fredag kl. 10 i stedet. Mvh Åse\n"

    sent = gmail_server.send_draft_as_person(MAILBOX, draft, edited)
    crm.run("sync")

    rows = reply_settled_in_thread(database, conversation)
    ours = rows[1]
    assert ours.id == reply["id"] and ours.gmail_message_id == sent
    assert ours.body.strip() == edited.strip()  # what the customer received
    assert ours.is_ai_generated and ours.ai_model == "gemini-1.5-pro"
    assert reply_row(database, reply["id"]).state.value == "sent"


def test_cancel_deletes_the_draft_and_nothing_is_sent(
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    conversation: str,
) -> None:
    reply = crm.reply(conversation, BODY)
    assert len(gmail_server.drafts(MAILBOX)) == 1

    cancelled = crm.json("reply", "cancel", reply["id"])

    assert cancelled["state"] == "cancelled"
    assert gmail_server.drafts(MAILBOX) == [] and mailbox.sent == []
    assert reply_row(database, reply["id"]).gmail_draft_id is None
    assert "cannot be approved" not in crm.fails("reply", "cancel", reply["id"])
    assert "only a drafted, dry-run or failed reply" in crm.fails("reply", "approve", reply["id"])


def test_dry_run_records_and_sends_nothing_until_approved(
    crm: Crm,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    conversation: str,
) -> None:
    gmail_server.reset_stats()

    reply = crm.with_mode("dry-run").reply(conversation, BODY)

    assert reply["state"] == "dry_run" and "nothing sent" in reply["reason"]
    assert gmail_server.stats().http_requests == 0 and mailbox.sent == []
    text = crm.run("reply", "list").stdout
    assert "dry_run" in text and "Showing 1 of 1 reply" in text

    assert crm.json("reply", "approve", reply["id"])["state"] == "sent"
    assert len(mailbox.sent) == 1


def test_approve_after_a_person_sent_the_draft_finds_it_instead_of_sending(
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    conversation: str,
) -> None:
    reply = crm.reply(conversation, BODY)
    (draft,) = gmail_server.drafts(MAILBOX)
    sent = gmail_server.send_draft_as_person(MAILBOX, draft, "Hej, vi kommer kl. 11.\n")

    approved = crm.json("reply", "approve", reply["id"])  # before any sync saw it

    assert approved["state"] == "sent" and approved["gmail_message_id"] == sent
    assert mailbox.sent == [sent]
    crm.run("sync")
    rows = messages_of(database, conversation)
    assert [(m.id, m.gmail_message_id) for m in rows[1:]] == [(reply["id"], sent)]
    assert rows[1].body.strip() == "Hej, vi kommer kl. 11."  # what the customer received


def test_a_sent_reply_makes_a_new_lead_of_the_conversation_contacted(
    crm: Crm, database: Database, thread: str, conversation: str
) -> None:
    """As mail sent from Gmail would: the first outbound mail contacts a new lead."""
    with transaction(database.sessions) as session:
        lead = services.create_lead(session, name="Kunde", email="kunde@example.net")
        services.find_or_create_conversation(
            session, mailbox=MAILBOX, gmail_thread_id=thread, lead_id=lead.id
        )
        lead_id = lead.id

    crm.with_mode("draft").reply(conversation, BODY)
    with database.sessions() as session:
        assert services.get_lead(session, lead_id).status.value == "new"  # a draft is no contact
    reply = crm.with_mode("send").reply(conversation, BODY)

    assert reply["state"] == "sent"
    with database.sessions() as session:
        assert services.get_lead(session, lead_id).status.value == "contacted"
