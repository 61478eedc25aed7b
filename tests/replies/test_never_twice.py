"""A send whose answer is lost is looked up in the mailbox, never sent again."""

from __future__ import annotations

import httplib2
import pytest
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document

from tests.conftest import Database
from tests.gmail.conftest import MAILBOX, customer_mail
from tests.gmail_fake import FakeGmailServer
from tests.replies.conftest import (
    Crm,
    Mailbox,
    conversation_of,
    customer_writes,
    messages_of,
    reply_row,
)
from worker.gmail import send
from worker.gmail.service import GmailApi, discovery_document
from worker.gmail.transport import NoRepeatHttp

BODY = "Hej,\n\nTak for din henvendelse. Vi kommer på mandag.\n"


def _service(server: FakeGmailServer, mailbox: Mailbox, http: object) -> GmailApi:
    return GmailApi(build_from_document(discovery_document(server.url), http=http))


def test_the_default_transport_sends_a_dropped_post_twice_ours_once(
    gmail_server: FakeGmailServer, mailbox: Mailbox
) -> None:
    """Why sends have their own transport: httplib2 repeats the POST by itself."""
    credentials = gmail_server.credentials(mailbox.refresh_token)
    mime = customer_mail(7)

    gmail_server.queue_drop("messages.send")
    default = _service(gmail_server, mailbox, AuthorizedHttp(credentials, http=httplib2.Http()))
    send.send_message(mime, None)(default).execute(num_retries=0)  # answered on the 2nd try
    assert len(mailbox.sent) == 2  # the customer got it twice

    gmail_server.queue_drop("messages.send")
    ours = _service(gmail_server, mailbox, NoRepeatHttp(credentials))
    with pytest.raises(OSError):
        send.send_message(mime, None)(ours).execute(num_retries=0)
    assert len(mailbox.sent) == 3  # once more, and an error instead of a second copy


@pytest.mark.parametrize("gmail_replaces_message_id", [False, True])
def test_connection_dropped_after_gmail_accepted_the_send(
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    gmail_replaces_message_id: bool,
) -> None:
    thread = customer_writes(gmail_server)
    crm.run("sync")
    conversation = conversation_of(database, thread)
    gmail_server.replace_sent_message_ids(MAILBOX, gmail_replaces_message_id)
    gmail_server.queue_drop("messages.send")

    reply = crm.with_mode("send").reply(conversation, BODY)

    (sent,) = mailbox.sent
    assert reply["state"] == "sent" and reply["gmail_message_id"] == sent
    crm.run("sync")
    rows = messages_of(database, conversation)
    assert [(m.direction.value, m.status.value) for m in rows] == [
        ("inbound", "sent"),
        ("outbound", "sent"),
    ]
    assert rows[1].id == reply["id"] and rows[1].gmail_message_id == sent


def test_an_interrupted_send_not_found_fails_for_a_person_and_is_not_repeated(
    crm: Crm, database: Database, gmail_server: FakeGmailServer, mailbox: Mailbox
) -> None:
    """The connection broke before Gmail did anything: after the lookup window the
    reply fails with the reason, unsent; only a person's approve sends it."""
    thread = customer_writes(gmail_server)
    crm.run("sync")
    conversation = conversation_of(database, thread)
    gmail_server.queue_drop("messages.send", done=False)

    reply = crm.with_mode("send", lookup_window_seconds=1).reply(conversation, BODY)

    assert reply["state"] == "failed" and "not found in the mailbox" in reply["reason"]
    assert mailbox.sent == []
    assert f"crm reply approve {reply['id']}" in reply["reason"]
    status = crm.run("status").stdout
    assert "failed 1" in status and "not found in the mailbox" in status
    assert crm.json("reply", "approve", reply["id"])["state"] == "sent"
    assert len(mailbox.sent) == 1


def test_gmail_busy_is_retried_with_backoff_and_sent_once(
    crm: Crm, database: Database, gmail_server: FakeGmailServer, mailbox: Mailbox
) -> None:
    thread = customer_writes(gmail_server)
    crm.run("sync")
    conversation = conversation_of(database, thread)
    gmail_server.queue_fault("messages.send", 503, count=2)
    gmail_server.queue_fault("messages.send", 429)

    reply = crm.with_mode("send").reply(conversation, BODY)

    assert reply["state"] == "sent" and len(mailbox.sent) == 1
    assert gmail_server.stats().calls(MAILBOX, "messages.send") == 4
    assert reply_row(database, reply["id"]).attempts == 1
