"""Claiming staged messages for ingestion and recording what became of each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crm_core.errors import ConflictError, NotFoundError
from crm_core.models import ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key
from crm_core.statuses import IngestOutcome

REASON_LIMIT = 500
CHUNK = 900  # ids per statement: SQLite allows 999 bound parameters in older builds


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


def record_outcome(
    received: ReceivedMessage,
    outcome: IngestOutcome,
    reason: str | None = None,
    email_message_id: str | None = None,
    *,
    count_attempt: bool = False,
) -> None:
    """Record what became of a claimed message (``count_attempt``: ingestion ran once more)."""
    if count_attempt:
        received.attempts += 1
    received.outcome = outcome
    received.reason = reason[:REASON_LIMIT] if reason else None
    received.email_message_id = email_message_id
    received.processed_at = utcnow()


def record_outcomes(
    session: Session,
    outcomes: Sequence[tuple[ReceivedMessage, IngestOutcome, str | None, str | None]],
) -> None:
    """record_outcome (and one more attempt) for many claimed rows, in one statement.

    ``outcomes`` holds (row, outcome, reason, email_message_id). The rows are written
    by primary key in one executemany and their attributes set as already saved, so the
    unit of work has nothing left to do for them: flushing thousands of changed rows
    one by one cost more than storing the messages they stand for.
    """
    if not outcomes:
        return
    now = utcnow()
    values: list[dict[str, object]] = []
    for received, outcome, reason, email_message_id in outcomes:
        changes: dict[str, object] = {
            "outcome": outcome,
            "reason": reason[:REASON_LIMIT] if reason else None,
            "email_message_id": email_message_id,
            "attempts": received.attempts + 1,
            "processed_at": now,
        }
        values.append({"id": received.id, **changes})
        for key, value in changes.items():
            set_committed_value(received, key, value)
    session.execute(update(ReceivedMessage), values)


class LedgerRef(NamedTuple):
    """What sending a staged message to ingestion needs: where it is, its size and its
    thread (jobs keep a thread's messages together)."""

    mailbox: str
    gmail_message_id: str
    size: int
    gmail_thread_id: str | None = None


def reset_for_retry(session: Session, received_ids: Sequence[str]) -> list[LedgerRef]:
    """Put messages (quarantined, or any) back to pending so they are processed again.

    One UPDATE per chunk of ids, never reading the raw bytes (quarantined messages are
    often the largest); returns the messages in the order given. An unknown id raises
    NotFoundError and, the caller's transaction rolling back, resets nothing.
    """
    ids = list(dict.fromkeys(received_ids))
    _refuse_dropped(session, ids)
    found: dict[str, LedgerRef] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            update(ReceivedMessage)
            .where(ReceivedMessage.id.in_(ids[start : start + CHUNK]))
            .values(outcome=IngestOutcome.PENDING, reason=None, attempts=0, processed_at=None)
            .returning(
                ReceivedMessage.id,
                ReceivedMessage.mailbox,
                ReceivedMessage.gmail_message_id,
                ReceivedMessage.size,
                ReceivedMessage.gmail_thread_id,
            )
        )
        for received_id, mailbox, gmail_id, size, thread_id in rows:
            found[received_id] = LedgerRef(mailbox, gmail_id, size, thread_id)
    if missing := [received_id for received_id in ids if received_id not in found]:
        raise NotFoundError("received message", missing[0])
    return [found[received_id] for received_id in ids]


def _refuse_dropped(session: Session, ids: list[str]) -> None:
    """A row whose raw bytes retention dropped must never be ingested from b""."""
    for start in range(0, len(ids), CHUNK):
        dropped = session.execute(
            select(ReceivedMessage.mailbox, ReceivedMessage.gmail_message_id).where(
                ReceivedMessage.id.in_(ids[start : start + CHUNK]),
                func.length(ReceivedMessage.raw) == 0,
            )
        ).first()
        if dropped is not None:
            raise ConflictError(
                f"message {dropped.mailbox}:{dropped.gmail_message_id} cannot be processed "
                "again: retention dropped its raw mail"
            )


def reopen_skipped(session: Session, mailbox: str, gmail_id: str) -> bool:
    """Put a skipped message back to pending so it is classified again; False if it
    is no longer skipped (a worker got there first)."""
    result = session.execute(
        update(ReceivedMessage)
        .where(
            ReceivedMessage.mailbox == mailbox_key(mailbox),
            ReceivedMessage.gmail_message_id == gmail_id,
            ReceivedMessage.outcome == IngestOutcome.SKIPPED,
            func.length(ReceivedMessage.raw) > 0,  # dropped by retention: stays skipped
        )
        .values(outcome=IngestOutcome.PENDING, reason=None, attempts=0, processed_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def record_gave_up(
    session: Session, mailbox: str, gmail_message_ids: Sequence[str], rounds: int
) -> tuple[int, int]:
    """An ingest job for these messages ran out of retries: the ones still pending stay
    pending with the reason (for the resume to send again), or go to quarantine once
    their jobs have given up ``rounds`` times. Messages another job filed meanwhile keep
    their outcome. Returns (left pending, quarantined)."""
    claimed = claim_received_messages(session, mailbox, gmail_message_ids)
    stuck = [row for row in claimed.values() if row.outcome == IngestOutcome.PENDING]
    quarantined = 0
    for received in stuck:
        received.attempts += 1
        reason = (
            f"gave up {received.attempts} of {rounds} times: "
            "the database or the broker kept failing"
        )
        if received.attempts >= rounds:
            record_outcome(received, IngestOutcome.QUARANTINED, reason)
            quarantined += 1
        else:
            received.reason = reason
    return len(stuck) - quarantined, quarantined
