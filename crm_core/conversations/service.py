"""Conversations: one per Gmail thread and mailbox, or one per chat/phone exchange."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.conversations.bulk import ThreadSeed, find_or_create_conversations
from crm_core.errors import ConflictError, NotFoundError
from crm_core.identity import advance_last_contact
from crm_core.ids import new_id
from crm_core.models import Conversation, Customer, EmailMessage, Lead
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key
from crm_core.paging import Page, first_page
from crm_core.statuses import Channel, ConversationStatus, parse_status
from crm_core.webhooks.events import conversation_data, emit


def _check_refs(session: Session, customer_id: str | None, lead_id: str | None) -> None:
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise NotFoundError("customer", customer_id)
    if lead_id is not None and session.get(Lead, lead_id) is None:
        raise NotFoundError("lead", lead_id)


def create_conversation(
    session: Session,
    *,
    customer_id: str | None = None,
    lead_id: str | None = None,
    subject: str | None = None,
    channel: str | Channel = Channel.EMAIL,
    gmail_thread_id: str | None = None,
    mailbox: str | None = None,
) -> Conversation:
    """Create a conversation. A Gmail thread id may be used once per mailbox."""
    _check_refs(session, customer_id, lead_id)
    conversation = Conversation(
        id=new_id(),
        customer_id=customer_id,
        lead_id=lead_id,
        subject=subject,
        channel=parse_status(Channel, channel, "channel"),
        status=ConversationStatus.ACTIVE,
        mailbox=mailbox_key(mailbox),
        gmail_thread_id=gmail_thread_id,
    )
    try:
        with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        raise ConflictError(f"a conversation for Gmail thread {gmail_thread_id} exists") from None
    emit(
        session,
        "conversation.created",
        conversation_data(conversation),
        customer_id=conversation.customer_id,
    )
    return conversation


def find_or_create_conversation(
    session: Session,
    *,
    mailbox: str,
    gmail_thread_id: str,
    customer_id: str | None = None,
    lead_id: str | None = None,
    subject: str | None = None,
) -> Conversation:
    """The conversation of this Gmail thread, created atomically when missing.

    An existing conversation that lacks a customer or lead gets the given ones.
    """
    seed = ThreadSeed(customer_id=customer_id, lead_id=lead_id, subject=subject)
    return find_or_create_conversations(session, mailbox, {gmail_thread_id: seed})[gmail_thread_id]


def get_conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFoundError("conversation", conversation_id)
    return conversation


def get_conversation_by_gmail_thread_id(
    session: Session, gmail_thread_id: str, mailbox: str | None = None
) -> Conversation | None:
    """The conversation of a Gmail thread; in the given mailbox, or in any when None."""
    statement = select(Conversation).where(Conversation.gmail_thread_id == gmail_thread_id)
    if mailbox is not None:
        statement = statement.where(Conversation.mailbox == mailbox_key(mailbox))
    return session.execute(statement.order_by(Conversation.created_at).limit(1)).scalar()


def get_customer_conversations(session: Session, customer_id: str) -> list[Conversation]:
    """The customer's conversations, most recently active first."""
    return customer_conversation_page(session, customer_id, limit=None).items


def customer_conversation_page(
    session: Session, customer_id: str, limit: int | None = 50
) -> Page[Conversation]:
    """The customer's conversations, most recently active first, with how many there are.

    Found by the index on customer_id; a customer's conversations are few enough to
    sort, and a first page bounds what is read for the rare one with thousands.
    """
    statement = (
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .order_by(
            Conversation.last_contact_at.desc().nulls_last(),
            Conversation.created_at.desc(),
            Conversation.id.desc(),
        )
    )
    return first_page(session, statement, limit=limit)


def close_conversation(session: Session, conversation_id: str) -> Conversation:
    """Close a conversation; closing a closed one changes nothing.

    Conversations move freely between active, closed and archived (reopen brings a
    closed or archived one back); new mail in a closed conversation is still filed
    in it and leaves its status alone.
    """
    return _set_status(session, conversation_id, ConversationStatus.CLOSED)


def reopen_conversation(session: Session, conversation_id: str) -> Conversation:
    """Make a closed or archived conversation active again."""
    return _set_status(session, conversation_id, ConversationStatus.ACTIVE)


def archive_conversation(session: Session, conversation_id: str) -> Conversation:
    """Archive a conversation: kept, but out of the way of the active ones."""
    return _set_status(session, conversation_id, ConversationStatus.ARCHIVED)


def _set_status(session: Session, conversation_id: str, status: ConversationStatus) -> Conversation:
    conversation = get_conversation(session, conversation_id)
    if conversation.status != status:
        conversation.status = status
        conversation.closed_at = None if status == ConversationStatus.ACTIVE else utcnow()
        session.flush()
        if status == ConversationStatus.CLOSED:
            emit(
                session,
                "conversation.closed",
                conversation_data(conversation),
                customer_id=conversation.customer_id,
            )
    return conversation


def touch_conversation(session: Session, conversation_id: str, at: datetime) -> None:
    """Move the conversation's last contact time forward to ``at`` (never backwards)."""
    advance_last_contact(session, Conversation, conversation_id, at)


def thread_of_references(
    session: Session, mailbox: str, rfc822_message_ids: Sequence[str]
) -> str | None:
    """The Gmail thread id of a conversation holding one of these Message-IDs (the
    first ones given win), for mail that arrives without a thread id."""
    if not rfc822_message_ids:
        return None
    wanted = list(rfc822_message_ids)
    rows = session.execute(
        select(EmailMessage.rfc822_message_id, Conversation.gmail_thread_id)
        .join(EmailMessage, EmailMessage.conversation_id == Conversation.id)
        .where(
            EmailMessage.mailbox == mailbox_key(mailbox),
            EmailMessage.rfc822_message_id.in_(wanted),
            Conversation.gmail_thread_id.is_not(None),
        )
    ).all()
    threads = {message_id: thread for message_id, thread in rows}
    return next((threads[m] for m in wanted if m in threads), None)


def adopt_thread(
    session: Session, conversation_id: str, mailbox: str, gmail_thread_id: str | None
) -> None:
    """A conversation without a Gmail thread takes ``gmail_thread_id`` (the thread its
    message turned out to be in), so replies in that thread find it; unless another
    conversation of the mailbox already has that thread."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.gmail_thread_id or not gmail_thread_id:
        return
    if get_conversation_by_gmail_thread_id(session, gmail_thread_id, mailbox) is None:
        conversation.mailbox = mailbox_key(mailbox)
        conversation.gmail_thread_id = gmail_thread_id
        session.flush()
