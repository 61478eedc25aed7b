"""Recognising the sent copy of a reply when the mailbox shows it.

Gmail may replace the Message-ID of mail sent through the API, and a person may edit
a draft before sending it from Gmail, so our Message-ID alone cannot say that a
message in the mailbox is one of our replies. In this order, a message is the copy
of a reply that is not yet settled (drafted, sending, or queued to send its draft):

1. its Gmail id is the one Gmail returned for the send (stored on the reply's
   message), or the Gmail id of the reply's draft (a draft sent from Gmail may keep
   it);
2. its Message-ID is ours;
3. it is in the reply's Gmail thread, to the same recipients, with the same subject
   and the same body once whitespace and letter forms are normalised;
4. for a Gmail draft (a person may have edited its text): in the reply's thread, to
   the same recipients with the same subject, when exactly one such draft waits there.

The sync calls ``find_reply_copy`` (through ``messages.find_recorded``), the lookup
after a send of unknown outcome calls ``matches_reply``; both use these rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from crm_core.models import EmailMessage, OutboundReply
from crm_core.normalize import mailbox_key
from crm_core.statuses import ReplyState

# A reply in one of these states may still show up in the mailbox as sent mail.
UNSETTLED = (ReplyState.QUEUED, ReplyState.SENDING, ReplyState.DRAFTED)


@dataclass(frozen=True, slots=True)
class SentCopy:
    """What the mailbox shows of an outbound message."""

    mailbox: str
    gmail_message_id: str
    gmail_thread_id: str | None
    rfc822_message_id: str | None
    recipients: Sequence[str]  # To and Cc addresses
    subject: str | None
    body: str


def normalised_text(text: str | None) -> str:
    """NFC letters (æøå composed either way match), whitespace folded, no trailing
    blank lines: what survives Gmail's re-encoding of a body."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def normalised_subject(subject: str | None) -> str:
    return normalised_text(subject).casefold()


def address_set(addresses: Collection[str]) -> frozenset[str]:
    return frozenset(a.strip().lower() for a in addresses if a and a.strip())


def is_copy_of(message: EmailMessage, row: OutboundReply, copy: SentCopy, *, edited: bool) -> bool:
    """Rules 1-4 above for one reply; ``edited`` allows rule 4 (the body may differ)."""
    if copy.gmail_message_id in (message.gmail_message_id, row.draft_message_id):
        return True
    if copy.rfc822_message_id and copy.rfc822_message_id == message.rfc822_message_id:
        return True
    if message.gmail_thread_id and copy.gmail_thread_id != message.gmail_thread_id:
        return False
    if address_set(copy.recipients) != address_set(_addresses(message)):
        return False
    if normalised_subject(copy.subject) != normalised_subject(message.subject):
        return False
    return edited or normalised_text(copy.body) == normalised_text(message.body)


def _addresses(message: EmailMessage) -> list[str]:
    return [
        a for field in (message.to_address, message.cc_address) for a in (field or "").split(",")
    ]


def _candidates(
    session: Session, mailbox: str, thread_ids: Collection[str], gmail_id: str | None
) -> list[tuple[EmailMessage, OutboundReply]]:
    conditions: list[ColumnElement[bool]] = [EmailMessage.gmail_thread_id.in_(list(thread_ids))]
    if gmail_id:
        conditions.append(OutboundReply.draft_message_id == gmail_id)
    rows = session.execute(
        select(EmailMessage, OutboundReply)
        .join(OutboundReply, OutboundReply.id == EmailMessage.id)
        .where(
            OutboundReply.mailbox == mailbox_key(mailbox),
            OutboundReply.state.in_(UNSETTLED),
            EmailMessage.gmail_message_id.is_(None),
            or_(*conditions),
        )
        .order_by(EmailMessage.created_at)
    ).all()
    return [(m, r) for m, r in rows]


def find_reply_copy(session: Session, copy: SentCopy) -> EmailMessage | None:
    """The unsettled reply this sent message is the copy of, if any (rules above)."""
    threads = [copy.gmail_thread_id] if copy.gmail_thread_id else []
    candidates = _candidates(session, copy.mailbox, threads, copy.gmail_message_id)
    for message, row in candidates:
        if is_copy_of(message, row, copy, edited=False):
            return message
    drafts = [
        message
        for message, row in candidates
        if row.gmail_draft_id and is_copy_of(message, row, copy, edited=True)
    ]
    return drafts[0] if len(drafts) == 1 else None


def threads_awaiting_copies(
    session: Session, mailbox: str, thread_ids: Collection[str]
) -> set[str]:
    """Those of the Gmail threads where a reply of ours may yet show up as sent mail:
    ingestion files their outbound messages one by one, through ``find_recorded``."""
    if not thread_ids:
        return set()
    rows = session.execute(
        select(EmailMessage.gmail_thread_id)
        .join(OutboundReply, OutboundReply.id == EmailMessage.id)
        .where(
            OutboundReply.mailbox == mailbox_key(mailbox),
            OutboundReply.state.in_(UNSETTLED),
            EmailMessage.gmail_thread_id.in_(list(thread_ids)),
        )
    ).scalars()
    return {str(t) for t in rows if t}


def matches_reply(session: Session, reply_id: str, copy: SentCopy) -> bool:
    """Whether this message in the mailbox is the copy of the reply (rules 1-4; rule 4
    only when the reply went out as a Gmail draft)."""
    row = session.get(OutboundReply, reply_id)
    message = session.get(EmailMessage, reply_id)
    if row is None or message is None:
        return False
    return is_copy_of(message, row, copy, edited=row.gmail_draft_id is not None)
