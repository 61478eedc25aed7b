"""A send whose answer is lost is looked up in the mailbox, never sent again."""

from __future__ import annotations

import httplib2
import pytest
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document

from crm_core import replies, services
from crm_core.db import transaction
from crm_core.models.types import utcnow
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX, customer_mail
from tests.gmail_fake import FakeGmailServer
from tests.replies.conftest import (
    Crm,
    Mailbox,
    messages_of,
    reply_row,
    reply_settled_in_thread,
)
from worker.gmail import send
from worker.gmail.service import GmailApi, discovery_document
from worker.gmail.transport import NoRepeatHttp
from worker.mail.compose import Reply, compose

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
    conversation: str,
) -> None:
    gmail_server.replace_sent_message_ids(MAILBOX, gmail_replaces_message_id)
    gmail_server.queue_drop("messages.send")

    reply = crm.with_mode("send").reply(conversation, BODY)

    (sent,) = mailbox.sent
    assert reply["state"] == "sent" and reply["gmail_message_id"] == sent
    crm.run("sync")
    rows = reply_settled_in_thread(database, conversation)
    assert rows[1].id == reply["id"] and rows[1].gmail_message_id == sent


def test_an_interrupted_send_not_found_fails_for_a_person_and_is_not_repeated(
    crm: Crm,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    conversation: str,
) -> None:
    """The connection broke before Gmail did anything: after the lookup window the
    reply fails with the reason, unsent; only a person's approve sends it."""
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
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    mailbox: Mailbox,
    conversation: str,
) -> None:
    gmail_server.queue_fault("messages.send", 503, count=2)
    gmail_server.queue_fault("messages.send", 429)

    reply = crm.with_mode("send").reply(conversation, BODY)

    assert reply["state"] == "sent" and len(mailbox.sent) == 1
    assert gmail_server.stats().calls(MAILBOX, "messages.send") == 4
    assert reply_row(database, reply["id"]).attempts == 1


def test_the_sync_settles_a_send_whose_copy_it_sees_first(
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    thread: str,
    conversation: str,
) -> None:
    """The worker died after Gmail sent the reply under a Message-ID of Gmail's own;
    the sync sees the copy before any lookup: thread, recipients, subject and body
    make it the reply's row, and the reply is sent."""
    with transaction(database.sessions) as session:
        reply_id = services.reply(session, conversation, BODY, author="test", mode="send").id
        assert replies.start_send(session, reply_id, None, 10) is None
        out = replies.outgoing(session, reply_id)
    mime = compose(
        Reply(
            from_address=out.from_address,
            to_address=out.to_address,
            subject=out.subject,
            message_id="CAGmail-made-1234@mail.gmail.com",
            in_reply_to=out.in_reply_to,
            references=out.references,
            body=out.body,
            html=None,
            date=utcnow(),
        )
    )
    copy = gmail_server.deliver(MAILBOX, mime, labels=["SENT"], thread_id=thread)

    crm.run("sync")

    rows = messages_of(database, conversation)
    assert [(m.id == reply_id, m.status.value, m.gmail_message_id) for m in rows[1:]] == [
        (True, "sent", copy)
    ]
    assert reply_row(database, reply_id).state.value == "sent"


def test_a_draft_whose_answer_was_lost_is_adopted_not_made_twice(
    crm: Crm,
    database: Database,
    gmail_server: FakeGmailServer,
    conversation: str,
) -> None:
    gmail_server.queue_drop("drafts.create")

    reply = crm.reply(conversation, BODY)

    assert reply["state"] == "drafted"
    (draft,) = gmail_server.drafts(MAILBOX)
    assert reply_row(database, reply["id"]).gmail_draft_id == draft
    assert gmail_server.stats().calls(MAILBOX, "drafts.create") == 1
