"""Reading replies: one to send, lists for people, counts for ``crm status``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from crm_core.errors import NotFoundError
from crm_core.models import EmailMessage, OutboundReply
from crm_core.normalize import mailbox_key
from crm_core.paging import checked_limit
from crm_core.statuses import ReplyState, SendMode

# What a person may still act on.
PENDING = (ReplyState.QUEUED, ReplyState.SENDING, ReplyState.DRAFTED, ReplyState.DRY_RUN)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Everything the sending job needs about one reply, read in one go."""

    id: str
    mailbox: str
    mode: SendMode
    state: ReplyState
    from_address: str
    to_address: str
    subject: str
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    body: str
    html: str | None
    gmail_thread_id: str | None
    gmail_message_id: str | None
    gmail_draft_id: str | None
    draft_message_id: str | None
    history_id_before: int | None
    send_started_at: datetime | None


def outgoing(session: Session, reply_id: str) -> Outgoing:
    found = session.execute(
        select(OutboundReply, EmailMessage)
        .join(EmailMessage, EmailMessage.id == OutboundReply.id)
        .where(OutboundReply.id == reply_id)
    ).first()
    if found is None:
        raise NotFoundError("reply", reply_id)
    row, message = found
    return Outgoing(
        id=row.id,
        mailbox=row.mailbox,
        mode=row.mode,
        state=row.state,
        from_address=message.from_address,
        to_address=message.to_address,
        subject=message.subject or "",
        message_id=message.rfc822_message_id or "",
        in_reply_to=message.in_reply_to,
        references=tuple((row.reference_ids or "").split()),
        body=message.body,
        html=row.html,
        gmail_thread_id=message.gmail_thread_id,
        gmail_message_id=message.gmail_message_id,
        gmail_draft_id=row.gmail_draft_id,
        draft_message_id=row.draft_message_id,
        history_id_before=row.history_id_before,
        send_started_at=row.send_started_at,
    )


@dataclass(frozen=True, slots=True)
class ReplyLine:
    id: str
    conversation_id: str
    mailbox: str
    to_address: str
    subject: str | None
    mode: SendMode
    state: ReplyState
    reason: str | None
    author: str
    is_ai_generated: bool
    ai_model: str | None
    gmail_message_id: str | None
    created_at: datetime
    sent_at: datetime | None


def list_replies(
    session: Session, *, pending: bool = False, limit: int = 50, reply_id: str | None = None
) -> tuple[list[ReplyLine], int]:
    """Replies, newest first, at most ``limit``; and how many there are in all.
    ``pending``: only those still to send or to decide on; ``reply_id``: that one."""
    checked_limit(limit)
    where: list[ColumnElement[bool]] = [OutboundReply.state.in_(PENDING)] if pending else []
    if reply_id is not None:
        where.append(OutboundReply.id == reply_id)
    total = int(
        session.execute(select(func.count()).select_from(OutboundReply).where(*where)).scalar_one()
    )
    rows = session.execute(
        select(OutboundReply, EmailMessage)
        .join(EmailMessage, EmailMessage.id == OutboundReply.id)
        .where(*where)
        .order_by(OutboundReply.created_at.desc(), OutboundReply.id)
        .limit(limit)
    ).all()
    return [
        ReplyLine(
            id=row.id,
            conversation_id=message.conversation_id,
            mailbox=row.mailbox,
            to_address=message.to_address,
            subject=message.subject,
            mode=row.mode,
            state=row.state,
            reason=row.reason,
            author=row.author,
            is_ai_generated=message.is_ai_generated,
            ai_model=message.ai_model,
            gmail_message_id=message.gmail_message_id,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )
        for row, message in rows
    ], total


def replies_needing_jobs(
    session: Session, mailbox: str | None = None, unchanged_since: datetime | None = None
) -> list[str]:
    """Replies a job must still act on: queued, sending (outcome to look up), and
    cancelled ones whose Gmail draft is still to be deleted; with ``unchanged_since``,
    only those not touched since then (younger ones have their job). Oldest first."""
    statement = (
        select(OutboundReply.id)
        .where(
            or_(
                OutboundReply.state.in_([ReplyState.QUEUED, ReplyState.SENDING]),
                (OutboundReply.state == ReplyState.CANCELLED)
                & OutboundReply.gmail_draft_id.is_not(None),
            )
        )
        .order_by(OutboundReply.created_at)
    )
    if mailbox is not None:
        statement = statement.where(OutboundReply.mailbox == mailbox_key(mailbox))
    if unchanged_since is not None:
        statement = statement.where(OutboundReply.updated_at < unchanged_since)
    return [str(i) for i in session.execute(statement).scalars()]


@dataclass(frozen=True, slots=True)
class MailboxReplies:
    """For ``crm status``: replies by state, and the newest reason of those waiting or failed."""

    counts: dict[str, int]
    waiting_reason: str | None
    failed_reason: str | None


def reply_report(session: Session) -> dict[str, MailboxReplies]:
    counts: dict[str, Counter[str]] = {}
    for mailbox, state, count in session.execute(
        select(OutboundReply.mailbox, OutboundReply.state, func.count()).group_by(
            OutboundReply.mailbox, OutboundReply.state
        )
    ):
        counts.setdefault(mailbox, Counter())[ReplyState(state).value] = int(count)
    report = {}
    for mailbox, by_state in counts.items():
        report[mailbox] = MailboxReplies(
            dict(by_state),
            _newest_reason(session, mailbox, ReplyState.QUEUED),
            _newest_reason(session, mailbox, ReplyState.FAILED),
        )
    return report


def _newest_reason(session: Session, mailbox: str, state: ReplyState) -> str | None:
    return session.execute(
        select(OutboundReply.reason)
        .where(
            OutboundReply.mailbox == mailbox,
            OutboundReply.state == state,
            OutboundReply.reason.is_not(None),
        )
        .order_by(OutboundReply.updated_at.desc())
        .limit(1)
    ).scalar()
