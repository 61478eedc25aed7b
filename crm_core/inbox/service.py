"""Staging raw messages and recording what became of each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_core.conversations.service import mailbox_key
from crm_core.errors import NotFoundError
from crm_core.ids import new_id
from crm_core.models import ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome

REASON_LIMIT = 500
_CHUNK = 900


@dataclass(frozen=True, slots=True)
class StagedMessage:
    """A raw message as it arrived from Gmail or an export."""

    mailbox: str
    gmail_message_id: str
    raw: bytes
    source: str
    gmail_thread_id: str | None = None
    label_ids: Sequence[str] = field(default=())
    received_at: datetime | None = None


def stage_messages(session: Session, messages: Iterable[StagedMessage]) -> list[str]:
    """Store raw messages not seen before; return the Gmail ids that were new.

    A message already staged (same mailbox and Gmail id) is left as it is, so staging
    the same export or sync page twice changes nothing.
    """
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "mailbox": mailbox_key(m.mailbox),
            "gmail_message_id": m.gmail_message_id,
            "gmail_thread_id": m.gmail_thread_id,
            "label_ids": list(m.label_ids),
            "raw": m.raw,
            "size": len(m.raw),
            "source": m.source,
            "received_at": m.received_at,
            "outcome": IngestOutcome.PENDING.value,
            "attempts": 0,
            "staged_at": now,
        }
        for m in messages
    ]
    if not rows:
        return []
    dialect: object = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(ReceivedMessage.__table__)  # type: ignore[attr-defined]
        .on_conflict_do_nothing(index_elements=["mailbox", "gmail_message_id"])
        .returning(ReceivedMessage.gmail_message_id)
    )
    return [row[0] for row in session.execute(statement, rows) if row[0] is not None]


def claim_received_message(
    session: Session, mailbox: str, gmail_message_id: str
) -> ReceivedMessage | None:
    """The staged message, locked for this transaction so two workers cannot race on it."""
    return session.execute(
        select(ReceivedMessage)
        .where(
            ReceivedMessage.mailbox == mailbox_key(mailbox),
            ReceivedMessage.gmail_message_id == gmail_message_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def claim_received_messages(
    session: Session, mailbox: str, gmail_message_ids: Sequence[str]
) -> dict[str, ReceivedMessage]:
    """Several staged messages, locked in a stable order (no deadlock between batches)."""
    rows = session.execute(
        select(ReceivedMessage)
        .where(
            ReceivedMessage.mailbox == mailbox_key(mailbox),
            ReceivedMessage.gmail_message_id.in_(list(gmail_message_ids)),
        )
        .order_by(ReceivedMessage.gmail_message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    return {row.gmail_message_id: row for row in rows}


def get_received_message(session: Session, received_id: str) -> ReceivedMessage:
    found = session.get(ReceivedMessage, received_id)
    if found is None:
        raise NotFoundError("received message", received_id)
    return found


def record_outcome(
    received: ReceivedMessage,
    outcome: IngestOutcome,
    reason: str | None = None,
    email_message_id: str | None = None,
) -> None:
    received.outcome = outcome
    received.reason = reason[:REASON_LIMIT] if reason else None
    received.email_message_id = email_message_id
    received.processed_at = utcnow()


def reset_for_retry(session: Session, received_id: str) -> ReceivedMessage:
    """Put a quarantined (or any) message back to pending so it is processed again."""
    received = get_received_message(session, received_id)
    received.outcome = IngestOutcome.PENDING
    received.reason = None
    received.attempts = 0
    session.flush()
    return received


def list_received(
    session: Session,
    *,
    outcome: IngestOutcome | None = None,
    mailbox: str | None = None,
    limit: int = 100,
) -> list[ReceivedMessage]:
    statement = select(ReceivedMessage)
    if outcome is not None:
        statement = statement.where(ReceivedMessage.outcome == outcome)
    if mailbox is not None:
        statement = statement.where(ReceivedMessage.mailbox == mailbox_key(mailbox))
    statement = statement.order_by(ReceivedMessage.staged_at.desc()).limit(limit)
    return list(session.execute(statement).scalars())


def outcome_counts(
    session: Session,
    *,
    mailbox: str | None = None,
    gmail_message_ids: Sequence[str] | None = None,
) -> Counter[tuple[IngestOutcome, str | None]]:
    """How many messages ended how, by (outcome, reason); all, or just the given ids."""
    base = select(ReceivedMessage.outcome, ReceivedMessage.reason, func.count()).group_by(
        ReceivedMessage.outcome, ReceivedMessage.reason
    )
    if mailbox is not None:
        base = base.where(ReceivedMessage.mailbox == mailbox_key(mailbox))
    if gmail_message_ids is None:
        chunks = [base]
    else:
        # Chunked: SQLite limits the number of bound parameters in one statement.
        ids = list(gmail_message_ids)
        chunks = [
            base.where(ReceivedMessage.gmail_message_id.in_(ids[i : i + _CHUNK]))
            for i in range(0, len(ids), _CHUNK)
        ]
    counts: Counter[tuple[IngestOutcome, str | None]] = Counter()
    for statement in chunks:
        for outcome, reason, n in session.execute(statement):
            counts[(outcome, reason)] += int(n)
    return counts
