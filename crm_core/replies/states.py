"""The state machine of a reply on its way out. Every move locks the reply's row.

::

    queued ──(draft mode)──> drafted ──approve──> queued (with its draft) ──> sending
      │                                                                         │
      └──(send mode)──> sending ──Gmail's answer──> sent  (Gmail id, last contact)
                           │  └──refused (400…)──> failed (reason)
                           └──no answer (dropped, timeout, killed)──> looked up in the
                              mailbox: found → sent; not found in time → failed
    queued, drafted, dry_run, failed ──cancel──> cancelled
    dry_run, failed ──approve──> queued (send)

``sending`` is committed *before* the request leaves, with the mailbox's history id
of that moment: a job that finds a reply in ``sending`` never sends it again, it
looks in the mailbox for it (worker/gmail/sent_lookup.py). A reply that waits for
something a person must fix (the send scope, the daily cap) stays ``queued`` with
the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.conversations.service import adopt_thread, touch_conversation
from crm_core.customers.service import touch_last_contact
from crm_core.errors import ConflictError, NotFoundError
from crm_core.leads.progress import leads_contacted_in
from crm_core.models import Conversation, Customer, EmailMessage, Mailbox, OutboundReply
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key
from crm_core.statuses import CustomerStatus, MessageStatus, ReplyState, SendMode
from crm_core.webhooks.events import emit, message_data

REASON_CHARS = 500
APPROVABLE = (ReplyState.DRAFTED, ReplyState.DRY_RUN, ReplyState.FAILED)
CANCELLABLE = (ReplyState.QUEUED, ReplyState.DRAFTED, ReplyState.DRY_RUN, ReplyState.FAILED)


def _locked(session: Session, reply_id: str) -> OutboundReply:
    row = session.get(OutboundReply, reply_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFoundError("reply", reply_id)
    return row


def _message(session: Session, reply_id: str) -> EmailMessage:
    message = session.get(EmailMessage, reply_id)
    if message is None:
        raise NotFoundError("email message", reply_id)
    return message


def _reason(text: str | None) -> str | None:
    return text[:REASON_CHARS] if text else None


def sent_in_last_day(session: Session, mailbox: str, now: datetime | None = None) -> int:
    """Replies of the mailbox sent (or whose send started) in the last 24 hours: what
    ``[sending] max_per_day`` counts (Gmail's own limits are over a rolling day)."""
    since = (now or utcnow()) - timedelta(days=1)
    started = func.coalesce(OutboundReply.sent_at, OutboundReply.send_started_at)
    return int(
        session.execute(
            select(func.count())
            .select_from(OutboundReply)
            .where(
                OutboundReply.mailbox == mailbox_key(mailbox),
                OutboundReply.state.in_([ReplyState.SENDING, ReplyState.SENT]),
                started >= since,
            )
        ).scalar_one()
    )


@dataclass(frozen=True, slots=True)
class StartRefused:
    """Why a send did not start: ``final`` replies are failed, the others wait queued."""

    reason: str
    final: bool


def start_send(
    session: Session, reply_id: str, history_id: int | None, max_per_day: int
) -> StartRefused | None:
    """Move a queued reply to ``sending`` (committed by the caller before the request
    leaves), after the last checks: still queued, customer not blocked, the daily cap.
    Returns why not, or None when the send may go."""
    row = _locked(session, reply_id)
    if row.state is not ReplyState.QUEUED:
        return StartRefused(f"reply is {row.state.value}, not queued", final=False)
    mailbox = session.execute(
        select(Mailbox).where(Mailbox.address == row.mailbox).with_for_update()
    ).scalar()  # serialises the cap check of concurrent sends from one mailbox
    del mailbox
    message = _message(session, reply_id)
    customer = _customer_of(session, message)
    if customer is not None and customer.status is CustomerStatus.BLOCKED:
        fail(session, reply_id, f"customer {customer.id} is blocked: not sent")
        return StartRefused("customer is blocked", final=True)
    sent = sent_in_last_day(session, row.mailbox)
    if sent >= max_per_day:
        row.reason = (
            f"daily cap reached: {sent} of {max_per_day} replies sent from {row.mailbox} "
            "in the last 24 hours; it is sent once the day has room "
            "(`crm reply resume`), or raise [sending] max_per_day"
        )
        return StartRefused(row.reason, final=False)
    row.state = ReplyState.SENDING
    row.send_started_at = utcnow()
    row.history_id_before = history_id
    row.attempts += 1
    row.reason = None
    session.flush()
    return None


def hold(session: Session, reply_id: str, reason: str) -> None:
    """Keep a reply queued with the reason it waits (a scope to grant, a cap)."""
    row = _locked(session, reply_id)
    if row.state is ReplyState.QUEUED:
        row.reason = _reason(reason)


def back_to_queue(session: Session, reply_id: str, reason: str) -> None:
    """A send that Gmail answered "not now" (429, 5xx after retries): nothing was sent."""
    row = _locked(session, reply_id)
    if row.state is ReplyState.SENDING:
        row.state = ReplyState.QUEUED
        row.reason = _reason(reason)


def mark_drafted(
    session: Session, reply_id: str, draft_id: str, draft_message_id: str, thread_id: str | None
) -> None:
    row = _locked(session, reply_id)
    if row.state is not ReplyState.QUEUED:
        raise ConflictError(f"reply {reply_id} is {row.state.value}, not queued")
    row.state = ReplyState.DRAFTED
    row.gmail_draft_id = draft_id
    row.draft_message_id = draft_message_id
    row.reason = None
    message = _message(session, reply_id)
    message.gmail_thread_id = message.gmail_thread_id or thread_id


def mark_sent(
    session: Session,
    reply_id: str,
    gmail_message_id: str,
    gmail_thread_id: str | None,
    sent_at: datetime | None = None,
) -> bool:
    """The reply is in the mailbox as sent mail with this Gmail id: status sent, last
    contact moves and a new lead of the conversation is contacted, as for any outbound
    mail (crm_core.messages.effects; a reply was stored as a draft, which moves
    nothing). Returns False when it was marked sent already (nothing changes)."""
    row = _locked(session, reply_id)
    if row.state is ReplyState.SENT:
        return False
    when = sent_at or utcnow()
    row.state = ReplyState.SENT
    row.sent_at = when
    row.reason = None
    row.gmail_draft_id = None
    message = _message(session, reply_id)
    message.status = MessageStatus.SENT
    message.gmail_message_id = message.gmail_message_id or gmail_message_id
    message.gmail_thread_id = message.gmail_thread_id or gmail_thread_id
    message.sent_at = when
    session.flush()
    adopt_thread(session, message.conversation_id, row.mailbox, message.gmail_thread_id)
    touch_conversation(session, message.conversation_id, when)
    leads_contacted_in(session, [message.conversation_id])
    # The conversation is in the session already (adopt_thread): its customer id is
    # all touch_last_contact needs, no need to load the customer.
    conversation = session.get(Conversation, message.conversation_id)
    if conversation is not None and conversation.customer_id is not None:
        touch_last_contact(session, conversation.customer_id, when)
    owner = conversation.customer_id if conversation is not None else None
    emit(session, "message.sent", message_data(message, owner), customer_id=owner)
    return True


def fail(session: Session, reply_id: str, reason: str) -> None:
    row = _locked(session, reply_id)
    if row.state in (ReplyState.SENT, ReplyState.CANCELLED):
        return
    row.state = ReplyState.FAILED
    row.reason = _reason(reason)
    _message(session, reply_id).status = MessageStatus.FAILED


def give_up_lookup(session: Session, reply_id: str, reason: str) -> bool:
    """A send of unknown outcome was not found in the mailbox in time: failed, unless
    something settled it meanwhile. Returns whether it was failed."""
    row = _locked(session, reply_id)
    if row.state is not ReplyState.SENDING:
        return False
    fail(session, reply_id, reason)
    return True


def approve(session: Session, reply_id: str) -> OutboundReply:
    """A person says: send it. A Gmail draft is sent as it stands in Gmail (edits
    included); a dry-run or failed reply is sent as recorded."""
    row = _locked(session, reply_id)
    if row.state not in APPROVABLE:
        raise ConflictError(
            f"reply {reply_id} is {row.state.value}: only a drafted, dry-run or failed "
            "reply can be approved"
        )
    if row.state is not ReplyState.DRAFTED:
        row.mode = SendMode.SEND
    row.state = ReplyState.QUEUED
    row.reason = None
    _message(session, reply_id).status = MessageStatus.DRAFT
    return row


def cancel(session: Session, reply_id: str) -> OutboundReply:
    """Never send it. A Gmail draft of it is deleted by the job that follows."""
    row = _locked(session, reply_id)
    if row.state not in CANCELLABLE:
        raise ConflictError(f"reply {reply_id} is {row.state.value}: it cannot be cancelled")
    row.state = ReplyState.CANCELLED
    row.reason = None
    return row


def draft_deleted(session: Session, reply_id: str) -> None:
    _locked(session, reply_id).gmail_draft_id = None


def _customer_of(session: Session, message: EmailMessage) -> Customer | None:
    conversation = session.get(Conversation, message.conversation_id)
    if conversation is None or conversation.customer_id is None:
        return None
    return session.get(Customer, conversation.customer_id)
