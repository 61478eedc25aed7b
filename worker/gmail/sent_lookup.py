"""Finding a reply in the mailbox after a send whose answer never came.

The connection dropped after Gmail took the request, the answer timed out, or the
worker died before it could record the answer: the mail may or may not have left.
It is never sent again on a guess; it is looked for, in three ways, because Gmail may
replace the Message-ID of mail sent through the API:

1. ``rfc822msgid:<our Message-ID>`` (a search, 5 units);
2. the history since just before the send (the history id stored when the send
   started): messages added with the SENT label, in the reply's thread, fetched and
   compared by crm_core.replies.matches_reply (recipients, subject, body);
3. for a Gmail draft, which a person may have sent (edited) from Gmail before the
   send started: the SENT messages of its thread that no stored message holds yet.

Gmail may show a just-sent message a little later, so the caller asks again with
backoff for ``[sending] lookup_window_seconds`` before giving up.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from googleapiclient.errors import HttpError

from crm_core.db import transaction
from crm_core.messages import already_stored
from crm_core.replies import Outgoing, SentCopy, matches_reply
from worker.gmail import requests, send
from worker.gmail.calls import GmailClient
from worker.gmail.errors import status_of
from worker.mail.message import ParseLimits, Unparseable
from worker.mail.parse import parse_message
from worker.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Found:
    gmail_message_id: str
    gmail_thread_id: str | None
    how: str  # "message-id" or "history"


def find_sent_copy(runtime: Runtime, client: GmailClient, reply: Outgoing) -> Found | None:
    by_id = client.call("messages.list", send.search(f"rfc822msgid:{reply.message_id}"))
    for ref in by_id.get("messages") or ():
        return Found(str(ref["id"]), ref.get("threadId"), "message-id")
    candidates: dict[str, str] = {}
    if reply.history_id_before is not None:
        for gmail_id, thread_id in _sent_since(client, reply.history_id_before):
            if not reply.gmail_thread_id or thread_id == reply.gmail_thread_id:
                candidates[gmail_id] = "history"
    if reply.gmail_draft_id and reply.gmail_thread_id:
        for gmail_id in _unknown_sent_in_thread(runtime, client, reply):
            candidates.setdefault(gmail_id, "thread")
    for gmail_id, how in candidates.items():
        copy = _copy_of(client, reply.mailbox, gmail_id, runtime.limits)
        if copy is None:
            continue
        with transaction(runtime.sessions) as session:
            if matches_reply(session, reply.id, copy):
                return Found(gmail_id, copy.gmail_thread_id, how)
    return None


def _unknown_sent_in_thread(runtime: Runtime, client: GmailClient, reply: Outgoing) -> list[str]:
    """SENT messages of the reply's thread that no stored message holds (10 units)."""
    try:
        thread = client.call(
            "threads.get", requests.get_thread_minimal(reply.gmail_thread_id or "")
        )
    except HttpError as exc:
        if status_of(exc) == 404:
            return []
        raise
    sent = [
        str(m["id"])
        for m in thread.get("messages") or ()
        if "SENT" in (m.get("labelIds") or ()) and "DRAFT" not in (m.get("labelIds") or ())
    ]
    with transaction(runtime.sessions) as session:
        known = already_stored(session, reply.mailbox, sent, {})
    return [gmail_id for gmail_id in sent if gmail_id not in known]


def _sent_since(client: GmailClient, history_id: int) -> list[tuple[str, str | None]]:
    """(Gmail id, thread id) of messages added as SENT since ``history_id``, oldest first."""
    found: dict[str, str | None] = {}
    token: str | None = None
    while True:
        try:
            page = client.call("history.list", send.sent_added_since(history_id, token))
        except HttpError as exc:
            if status_of(exc) == 404:  # history expired: the search above is all there is
                return list(found.items())
            raise
        for record in page.get("history") or ():
            for added in record.get("messagesAdded") or ():
                message = added.get("message") or {}
                labels = message.get("labelIds") or ()
                if "SENT" in labels and "DRAFT" not in labels:
                    found[str(message["id"])] = message.get("threadId")
        token = page.get("nextPageToken")
        if not token:
            return list(found.items())


def _copy_of(
    client: GmailClient, mailbox: str, gmail_id: str, limits: ParseLimits
) -> SentCopy | None:
    try:
        answer = client.call("messages.get", requests.get_raw(gmail_id))
    except HttpError as exc:
        if status_of(exc) == 404:
            return None
        raise
    raw = base64.urlsafe_b64decode(str(answer.get("raw") or "") + "==")
    parsed = parse_message(raw, limits)
    if isinstance(parsed, Unparseable):
        return None
    return SentCopy(
        mailbox=mailbox,
        gmail_message_id=gmail_id,
        gmail_thread_id=answer.get("threadId"),
        rfc822_message_id=parsed.message_id,
        recipients=[a.email for a in (*parsed.to, *parsed.cc)],
        subject=parsed.subject or None,
        body=parsed.body_text,
    )
