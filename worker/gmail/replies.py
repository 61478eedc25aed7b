"""Taking a recorded reply out through Gmail: the work of the ``send_reply`` job.

What it does depends on where the reply stands (crm_core/replies/states.py):

- queued, draft mode: a Gmail draft in the thread (drafts.create) → ``drafted``;
- queued to send (send mode, or an approved draft): the last checks (our own
  address, a suppressed one, the scope, then under the row's lock the customer and
  the daily cap), the mailbox's history id, ``sending`` committed, then one request
  on the transport that never repeats itself: Gmail's answer → ``sent`` with its id;
  a refusal (400 …) → ``failed``; "later" (429, 5xx) is retried with backoff and,
  when that runs out, the reply is queued again, nothing having been sent;
- sending: the outcome of an earlier attempt is unknown (the connection dropped, the
  worker died): looked up in the mailbox (sent_lookup.py), never sent again;
- cancelled with a draft: the draft is deleted.

No body or address is logged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from googleapiclient.errors import HttpError

from crm_core import replies
from crm_core.db import transaction
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key, normalize_email
from crm_core.replies import Outgoing
from crm_core.statuses import ReplyState, SendMode
from worker.gmail import requests, send
from worker.gmail.calls import GmailClient, describe
from worker.gmail.credentials import (
    SCOPES_THAT_DRAFT,
    SCOPES_THAT_SEND,
    granted_scopes,
    send_hint,
)
from worker.gmail.errors import (
    GmailError,
    GmailUnavailableError,
    NeedsReauthError,
    is_insufficient_scope,
    is_retryable_answer,
    status_of,
)
from worker.gmail.sent_lookup import find_sent_copy
from worker.gmail.session import ensure_active, open_client
from worker.mail.compose import Reply, compose
from worker.runtime import Runtime

log = logging.getLogger("worker.gmail")


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the job did: the reply's state afterwards and why."""

    reply_id: str
    state: ReplyState
    detail: str = ""


def deliver_reply(runtime: Runtime, reply_id: str) -> Delivery:
    with transaction(runtime.sessions) as session:
        reply = replies.outgoing(session, reply_id)
    if reply.state is ReplyState.CANCELLED:
        return _delete_draft(runtime, reply)
    if reply.state not in (ReplyState.QUEUED, ReplyState.SENDING):
        return Delivery(reply_id, reply.state, "nothing to do")
    refusal = _refused_recipient(runtime, reply)
    if refusal is not None:
        with transaction(runtime.sessions) as session:
            replies.fail(session, reply_id, refusal)
        return Delivery(reply_id, ReplyState.FAILED, refusal)
    try:
        ensure_active(runtime, reply.mailbox)
        with open_client(runtime, reply.mailbox, sending=True) as client:
            if reply.state is ReplyState.SENDING:
                return _resolve(runtime, client, reply)
            if reply.mode is SendMode.DRAFT and reply.gmail_draft_id is None:
                return _draft(runtime, client, reply)
            return _send(runtime, client, reply)
    except (NeedsReauthError, GmailError) as exc:
        if isinstance(exc, GmailUnavailableError):
            raise  # transient: the job is retried
        with transaction(runtime.sessions) as session:
            replies.hold(session, reply_id, str(exc))
        return Delivery(reply_id, ReplyState.QUEUED, str(exc))


def _refused_recipient(runtime: Runtime, reply: Outgoing) -> str | None:
    rules = runtime.rules
    for address in reply.to_address.split(","):
        email = normalize_email(address.strip()) if address.strip() else ""
        if rules.is_own(email) or email == mailbox_key(reply.mailbox):
            return f"{email} is one of our own addresses: a reply never goes there"
        if rules.is_blocked(email):
            return f"{email} is on the blocklist ([ingest] blocklist): not sent"
    return None


def _mime(reply: Outgoing) -> bytes:
    return compose(
        Reply(
            from_address=reply.from_address,
            to_address=reply.to_address,
            subject=reply.subject,
            message_id=reply.message_id,
            in_reply_to=reply.in_reply_to,
            references=reply.references,
            body=reply.body,
            html=reply.html,
            date=utcnow(),
        )
    )


def _lacks_scope(client: GmailClient, needed: frozenset[str]) -> bool:
    granted = granted_scopes(client.credentials) if client.credentials else None
    return granted is not None and not granted & needed


def _hold_for_scope(runtime: Runtime, reply: Outgoing) -> Delivery:
    reason = send_hint(reply.mailbox)
    with transaction(runtime.sessions) as session:
        replies.hold(session, reply.id, reason)
        replies.back_to_queue(session, reply.id, reason)
    return Delivery(reply.id, ReplyState.QUEUED, reason)


def _draft(runtime: Runtime, client: GmailClient, reply: Outgoing) -> Delivery:
    if _lacks_scope(client, SCOPES_THAT_DRAFT):
        return _hold_for_scope(runtime, reply)
    # A job that died after Gmail made the draft, or whose answer was lost, left it
    # there: adopt it rather than make a second one.
    answer = _existing_draft(client, reply)
    try:
        if answer is None:
            answer = client.call(
                "drafts.create",
                send.create_draft(_mime(reply), reply.gmail_thread_id),
                retry_on=is_retryable_answer,
            )
    except HttpError as exc:
        return _refused(runtime, reply, exc)
    except GmailUnavailableError as exc:
        answer = None if isinstance(exc.__cause__, HttpError) else _existing_draft(client, reply)
        if answer is None:
            raise  # not made (or not yet visible): the job runs again and looks first
    message = answer.get("message") or {}
    with transaction(runtime.sessions) as session:
        replies.mark_drafted(
            session, reply.id, str(answer["id"]), str(message.get("id")), message.get("threadId")
        )
    log.info("reply drafted", extra={"reply": reply.id, "mailbox": reply.mailbox})
    return Delivery(reply.id, ReplyState.DRAFTED, "a Gmail draft waits in the thread")


def _existing_draft(client: GmailClient, reply: Outgoing) -> dict[str, Any] | None:
    """The Gmail draft holding our Message-ID, if one was made already."""
    found = client.call("messages.list", send.search(f"rfc822msgid:{reply.message_id}"))
    ids = {str(m["id"]) for m in found.get("messages") or ()}
    token: str | None = None
    while ids:
        page = client.call("drafts.list", send.list_drafts(token))
        for draft in page.get("drafts") or ():
            if str((draft.get("message") or {}).get("id")) in ids:
                return dict(draft)
        token = page.get("nextPageToken")
        if not token:
            break
    return None


def _send(runtime: Runtime, client: GmailClient, reply: Outgoing) -> Delivery:
    if _lacks_scope(client, SCOPES_THAT_SEND):
        return _hold_for_scope(runtime, reply)
    _, cap = runtime.settings.sending_of(reply.mailbox)
    profile = client.call("getProfile", requests.get_profile())
    with transaction(runtime.sessions) as session:
        refused = replies.start_send(session, reply.id, int(profile["historyId"]), cap)
    if refused is not None:
        state = ReplyState.FAILED if refused.final else ReplyState.QUEUED
        return Delivery(reply.id, state, refused.reason)
    if reply.gmail_draft_id:
        method, make = "drafts.send", send.send_draft(reply.gmail_draft_id)
    else:
        method, make = "messages.send", send.send_message(_mime(reply), reply.gmail_thread_id)
    try:
        answer = client.call(method, make, retry_on=is_retryable_answer)
    except HttpError as exc:
        if reply.gmail_draft_id and status_of(exc) == 404:
            # The draft is gone: sent from Gmail by a person, or deleted there.
            return _resolve(runtime, client, _started(runtime, reply.id))
        return _refused(runtime, reply, exc)
    except GmailUnavailableError as exc:
        if isinstance(exc.__cause__, HttpError):  # Gmail kept saying "later": not sent
            with transaction(runtime.sessions) as session:
                replies.back_to_queue(session, reply.id, f"Gmail busy, tried again later: {exc}")
            raise
        log.warning(
            "reply send outcome unknown; looking in the mailbox",
            extra={"reply": reply.id, "error": str(exc)[:200]},
        )
        return _resolve(runtime, client, _started(runtime, reply.id))
    with transaction(runtime.sessions) as session:
        replies.mark_sent(session, reply.id, str(answer["id"]), answer.get("threadId"))
    log.info("reply sent", extra={"reply": reply.id, "mailbox": reply.mailbox, "how": method})
    return Delivery(reply.id, ReplyState.SENT, str(answer["id"]))


def _started(runtime: Runtime, reply_id: str) -> Outgoing:
    with transaction(runtime.sessions) as session:
        return replies.outgoing(session, reply_id)


def _refused(runtime: Runtime, reply: Outgoing, exc: HttpError) -> Delivery:
    """Gmail answered no. A missing scope waits for a person; anything else fails."""
    if is_insufficient_scope(exc):
        return _hold_for_scope(runtime, reply)
    reason = f"Gmail refused it: {describe(exc)}: {_message_of(exc)}"
    with transaction(runtime.sessions) as session:
        replies.fail(session, reply.id, reason)
    log.warning("reply refused by Gmail", extra={"reply": reply.id, "error": describe(exc)})
    return Delivery(reply.id, ReplyState.FAILED, reason)


def _message_of(exc: HttpError) -> str:
    """Gmail's message for a refusal (e.g. "Invalid To header"), one line, short."""
    try:
        details = str(exc.error_details or "") or exc._get_reason()
    except Exception:
        details = ""
    return " ".join(str(details).split())[:200]


def _resolve(runtime: Runtime, client: GmailClient, reply: Outgoing) -> Delivery:
    """Look for the reply in the mailbox until the lookup window has passed."""
    window = runtime.settings.sending.lookup_window_seconds
    started = reply.send_started_at or utcnow()
    deadline = started + timedelta(seconds=window)
    pause = 0.5
    while True:
        with transaction(runtime.sessions) as session:
            now_state = replies.outgoing(session, reply.id).state
        if now_state is not ReplyState.SENDING:  # another job settled it meanwhile
            return Delivery(reply.id, now_state, "settled meanwhile")
        found = find_sent_copy(runtime, client, reply)
        if found is not None:
            with transaction(runtime.sessions) as session:
                replies.mark_sent(session, reply.id, found.gmail_message_id, found.gmail_thread_id)
            log.info("reply found sent", extra={"reply": reply.id, "how": found.how})
            return Delivery(reply.id, ReplyState.SENT, f"found in the mailbox by {found.how}")
        if utcnow() >= deadline:
            break
        time.sleep(min(pause, max(0.0, (deadline - utcnow()).total_seconds())))
        pause = min(pause * 2, 30.0)
    reason = (
        f"the send was interrupted and the reply was not found in the mailbox within "
        f"{window:.0f} s: it was not sent again. Check Gmail's Sent folder; "
        f"`crm reply approve {reply.id}` sends it"
    )
    with transaction(runtime.sessions) as session:
        if not replies.give_up_lookup(session, reply.id, reason):
            return Delivery(reply.id, replies.outgoing(session, reply.id).state, "settled")
    return Delivery(reply.id, ReplyState.FAILED, reason)


def _delete_draft(runtime: Runtime, reply: Outgoing) -> Delivery:
    if reply.gmail_draft_id is None:
        return Delivery(reply.id, reply.state, "nothing to do")
    with open_client(runtime, reply.mailbox, sending=True) as client:
        try:
            client.call("drafts.delete", send.delete_draft(reply.gmail_draft_id))
        except HttpError as exc:
            if status_of(exc) != 404:
                raise
    with transaction(runtime.sessions) as session:
        replies.draft_deleted(session, reply.id)
    return Delivery(reply.id, reply.state, "Gmail draft deleted")
