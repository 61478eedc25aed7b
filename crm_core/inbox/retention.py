"""Storage limitation for raw mail: drop the RFC 822 bytes the ledger no longer needs.

A dropped row keeps everything but its bytes (Gmail ids, labels, outcome, reason,
size), so ``crm audit`` and a re-sync still know the message and never fetch it again.
Dropped means ``raw = b""`` (the column stays NOT NULL, no migration): nothing reads an
empty value as mail — ``reset_for_retry`` and ``reopen_skipped`` refuse such rows and
the pipeline quarantines a pending row without bytes instead of parsing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from crm_core.models import ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome

CHUNK = 500  # rows per UPDATE: short transactions, bounded locks
FINAL_OUTCOMES = (IngestOutcome.STORED, IngestOutcome.SKIPPED, IngestOutcome.BOUNCE)
DROPPED = b""


def quarantine_reason(days: int) -> str:
    return f"retention: raw mail dropped after {days} days"


@dataclass(frozen=True)
class RetentionCounts:
    """Rows (and their bytes) whose raw mail is, or would be, dropped."""

    processed: int = 0
    processed_bytes: int = 0
    quarantined: int = 0
    quarantined_bytes: int = 0


@dataclass(frozen=True)
class RawHeld:
    """How much raw mail the ledger holds."""

    messages: int
    bytes: int


def _held() -> ColumnElement[bool]:
    return func.length(ReceivedMessage.raw) > 0


def _older_than(cutoff: datetime) -> ColumnElement[bool]:
    return func.coalesce(ReceivedMessage.processed_at, ReceivedMessage.staged_at) < cutoff


def _processed_due(cutoff: datetime) -> ColumnElement[bool]:
    return and_(ReceivedMessage.outcome.in_(FINAL_OUTCOMES), _older_than(cutoff), _held())


def _quarantine_due(cutoff: datetime) -> ColumnElement[bool]:
    return and_(ReceivedMessage.outcome == IngestOutcome.QUARANTINED, _older_than(cutoff), _held())


def _count(session: Session, condition: ColumnElement[bool]) -> tuple[int, int]:
    count, size = session.execute(
        select(func.count(), func.coalesce(func.sum(ReceivedMessage.size), 0)).where(condition)
    ).one()
    return int(count), int(size)


def due_for_retention(
    session: Session, raw_mail_days: int, quarantine_days: int, now: datetime | None = None
) -> RetentionCounts:
    """What a retention run would drop now (for ``--dry-run``)."""
    now = now or utcnow()
    processed = _count(session, _processed_due(now - timedelta(days=raw_mail_days)))
    quarantined = _count(session, _quarantine_due(now - timedelta(days=quarantine_days)))
    return RetentionCounts(*processed, *quarantined)


class DroppedChunk(NamedTuple):
    """What one chunk dropped; ``last_id`` is where the next chunk starts (None: done)."""

    rows: int
    bytes: int
    last_id: str | None


def _drop_chunk(
    session: Session, condition: ColumnElement[bool], reason: str | None, after: str, chunk: int
) -> DroppedChunk:
    """One chunk, in id order from ``after`` (so a run reads the ledger once, not once
    per chunk): the ids are picked first (a LIMIT in UPDATE is not portable), then one
    set-based UPDATE clears them, re-checking the condition against a concurrent retry."""
    rows = session.execute(
        select(ReceivedMessage.id, ReceivedMessage.size)
        .where(condition, ReceivedMessage.id > after)
        .order_by(ReceivedMessage.id)
        .limit(chunk)
    ).all()
    if not rows:
        return DroppedChunk(0, 0, None)
    values: dict[str, object] = {"raw": DROPPED}
    if reason is not None:
        values["reason"] = reason
    result = session.execute(
        update(ReceivedMessage)
        .where(ReceivedMessage.id.in_([row.id for row in rows]), condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    # The sizes are those picked; a row retried in between is left alone (rare).
    dropped = int(getattr(result, "rowcount", 0) or 0)
    return DroppedChunk(dropped, sum(int(row.size) for row in rows), rows[-1].id)


def drop_processed_raw(
    session: Session, raw_mail_days: int, now: datetime, after: str = "", chunk: int = CHUNK
) -> DroppedChunk:
    """Drop one chunk of the raw bytes of messages filed (stored, skipped, bounce) more
    than ``raw_mail_days`` before ``now``. The caller commits per chunk."""
    return _drop_chunk(
        session, _processed_due(now - timedelta(days=raw_mail_days)), None, after, chunk
    )


def end_quarantined_raw(
    session: Session, quarantine_days: int, now: datetime, after: str = "", chunk: int = CHUNK
) -> DroppedChunk:
    """Drop one chunk of quarantined raw mail older than ``quarantine_days``; the row
    stays quarantined with a reason saying why it can no longer be retried."""
    cutoff = now - timedelta(days=quarantine_days)
    return _drop_chunk(
        session, _quarantine_due(cutoff), quarantine_reason(quarantine_days), after, chunk
    )


def raw_mail_held(session: Session) -> RawHeld:
    """Messages whose raw bytes the ledger still holds, and their size."""
    count, size = _count(session, _held())
    return RawHeld(count, size)
