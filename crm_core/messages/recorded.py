"""Messages the sending application recorded before the mailbox showed them.

An application (an AI-written reply, say) stores its outbound message with
``create_email_message``, often before Gmail has given it an id. When the mailbox
later shows the same message, ingestion completes that row instead of storing a
second one, keeping what the application set (flags, model, body). A reply written
in the CRM (crm_core/replies) is recognised by the rules of crm_core/replies/copies.py
too, so a copy whose Message-ID Gmail replaced, or a draft a person edited and sent,
still becomes the same row, and the reply is settled as sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from crm_core.conversations.service import adopt_thread
from crm_core.models import EmailMessage, OutboundReply
from crm_core.normalize import mailbox_key
from crm_core.replies.copies import SentCopy, find_reply_copy, normalised_text
from crm_core.replies.states import mark_sent
from crm_core.statuses import ReplyState


def find_recorded(
    session: Session,
    mailbox: str,
    gmail_message_id: str,
    rfc822_message_id: str | None,
    copy: SentCopy | None = None,
) -> EmailMessage | None:
    """The stored message with this Gmail id (in this mailbox, or stored without a
    mailbox), or with this Message-ID when it was stored without a Gmail id; else,
    for outbound mail (``copy``), the reply it is the sent copy of."""
    same_message = EmailMessage.gmail_message_id == gmail_message_id
    if rfc822_message_id:
        same_message = or_(
            same_message,
            (EmailMessage.rfc822_message_id == rfc822_message_id)
            & EmailMessage.gmail_message_id.is_(None),
        )
    found = session.execute(
        select(EmailMessage)
        .where(EmailMessage.mailbox.in_([mailbox_key(mailbox), ""]), same_message)
        .order_by(EmailMessage.created_at)
        .limit(1)
    ).scalar()
    if found is None and copy is not None:
        return find_reply_copy(session, copy)
    return found


_messages = EmailMessage.__table__.c
# Built once: the same query for every batch, its lists bound at execution.
_STORED_ALREADY = select(_messages.gmail_message_id, _messages.rfc822_message_id).where(
    _messages.mailbox.in_(bindparam("mailboxes", expanding=True)),
    or_(
        _messages.gmail_message_id.in_(bindparam("gmail_ids", expanding=True)),
        _messages.gmail_message_id.is_(None)
        & _messages.rfc822_message_id.in_(bindparam("message_ids", expanding=True)),
    ),
)


def already_stored(
    session: Session,
    mailbox: str,
    gmail_ids: Collection[str],
    message_ids: Mapping[str, str],
) -> set[str]:
    """Those of ``gmail_ids`` whose message is stored already, by ingestion or by the
    sending application; ``message_ids`` maps Message-IDs to the Gmail ids they have."""
    found: set[str] = set()
    for gmail_id, rfc822_id in session.execute(
        _STORED_ALREADY,
        {
            "mailboxes": [mailbox_key(mailbox), ""],
            "gmail_ids": list(gmail_ids),
            "message_ids": list(message_ids),
        },
    ):
        if gmail_id in gmail_ids:
            found.add(gmail_id)
        elif rfc822_id in message_ids:
            found.add(message_ids[rfc822_id])
    return found


@dataclass(frozen=True, slots=True)
class SeenInMailbox:
    """What the mailbox tells about a message the application recorded."""

    mailbox: str
    gmail_message_id: str
    gmail_thread_id: str | None
    rfc822_message_id: str | None
    in_reply_to: str | None
    cc_address: str | None
    subject: str | None
    body: str
    body_preview: str
    attachments: Sequence[dict[str, Any]]
    sent_at: datetime | None = None


def complete_recorded(session: Session, stored: EmailMessage, seen: SeenInMailbox) -> str:
    """Fill what the stored row lacks, keep everything it has (flags, body, model), and
    give its conversation the Gmail thread id so replies find it. Returns the
    conversation id."""
    stored.mailbox = mailbox_key(seen.mailbox)
    stored.gmail_message_id = stored.gmail_message_id or seen.gmail_message_id
    stored.gmail_thread_id = stored.gmail_thread_id or seen.gmail_thread_id
    stored.rfc822_message_id = stored.rfc822_message_id or seen.rfc822_message_id
    stored.in_reply_to = stored.in_reply_to or seen.in_reply_to
    stored.cc_address = stored.cc_address or seen.cc_address
    stored.subject = stored.subject or seen.subject
    if not stored.body:
        stored.body = seen.body
        stored.body_preview = seen.body_preview
    if not stored.attachments and seen.attachments:
        stored.attachments = list(seen.attachments)
    adopt_thread(session, stored.conversation_id, stored.mailbox, seen.gmail_thread_id)
    _settle_reply(session, stored, seen)
    return stored.conversation_id


def _settle_reply(session: Session, stored: EmailMessage, seen: SeenInMailbox) -> None:
    """A reply of ours seen as sent mail is sent. What the customer received is what
    the row holds: a draft a person edited keeps the edited text."""
    reply = session.get(OutboundReply, stored.id)
    if reply is None or reply.state is ReplyState.CANCELLED:
        return
    if seen.body and normalised_text(seen.body) != normalised_text(stored.body):
        stored.body = seen.body
        stored.body_preview = seen.body_preview
    if reply.state is not ReplyState.SENT:
        mark_sent(session, stored.id, seen.gmail_message_id, seen.gmail_thread_id, seen.sent_at)
