"""Staging raw messages and recording what became of each."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value

from crm_core.errors import NotFoundError
from crm_core.ids import new_id
from crm_core.models import ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key
from crm_core.statuses import IngestOutcome

REASON_LIMIT = 500
_CHUNK = 900

_WITHOUT_RAW = defer(ReceivedMessage.raw)  # a row's raw bytes can be megabytes

# Pending again after its jobs ran out of retries: a pending row's attempts count only
# the times its ingestion gave up (an outcome, a reset or staging sets them anew).
PENDING_AFTER_RETRIES = (ReceivedMessage.outcome == IngestOutcome.PENDING) & (
    ReceivedMessage.attempts > 0
)


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
    staged = list(messages)
    if not staged:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _stage_postgresql(session, staged)
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
        for m in staged
    ]
    statement = (
        sqlite.insert(ReceivedMessage.__table__)  # type: ignore[arg-type]
        .on_conflict_do_nothing(index_elements=["mailbox", "gmail_message_id"])
        .returning(ReceivedMessage.gmail_message_id)
    )
    return [row[0] for row in session.execute(statement, rows) if row[0] is not None]


# One statement with one array per column: a multi-row VALUES of a few hundred raw
# messages made the driver rewrite thousands of placeholders, a quarter of an
# import's time.
_STAGE_POSTGRESQL = text(
    """
    INSERT INTO received_messages (id, mailbox, gmail_message_id, gmail_thread_id,
        label_ids, raw, size, source, received_at, outcome, attempts, staged_at)
    SELECT id, mailbox, gmail_message_id, gmail_thread_id, CAST(label_ids AS json), raw,
        size, source, received_at, :outcome, 0, :now
    FROM unnest(CAST(:id AS text[]), CAST(:mailbox AS text[]),
        CAST(:gmail_message_id AS text[]), CAST(:gmail_thread_id AS text[]),
        CAST(:label_ids AS text[]), CAST(:raw AS bytea[]), CAST(:size AS integer[]),
        CAST(:source AS text[]), CAST(:received_at AS timestamptz[]))
        AS staged(id, mailbox, gmail_message_id, gmail_thread_id, label_ids, raw, size,
            source, received_at)
    ON CONFLICT (mailbox, gmail_message_id) DO NOTHING
    RETURNING gmail_message_id
    """
)


def _stage_postgresql(session: Session, staged: list[StagedMessage]) -> list[str]:
    parameters = {
        "id": [new_id() for _ in staged],
        "mailbox": [mailbox_key(m.mailbox) for m in staged],
        "gmail_message_id": [m.gmail_message_id for m in staged],
        "gmail_thread_id": [m.gmail_thread_id for m in staged],
        "label_ids": [json.dumps(list(m.label_ids)) for m in staged],
        "raw": [m.raw for m in staged],
        "size": [len(m.raw) for m in staged],
        "source": [m.source for m in staged],
        "received_at": [m.received_at for m in staged],
        "outcome": IngestOutcome.PENDING.value,
        "now": utcnow(),
    }
    return list(session.execute(_STAGE_POSTGRESQL, parameters).scalars())


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
    """One ledger row; its raw bytes are loaded when first read."""
    found = session.get(ReceivedMessage, received_id, options=[_WITHOUT_RAW])
    if found is None:
        raise NotFoundError("received message", received_id)
    return found


def find_received_by_gmail_id(
    session: Session, gmail_message_id: str, mailbox: str | None = None
) -> list[ReceivedMessage]:
    """The ledger rows of a Gmail message id, in ``mailbox`` or in every mailbox
    (raw bytes not loaded), by mailbox."""
    query = select(ReceivedMessage).where(ReceivedMessage.gmail_message_id == gmail_message_id)
    if mailbox is not None:
        query = query.where(func.lower(ReceivedMessage.mailbox) == mailbox.strip().lower())
    rows = session.execute(query.options(_WITHOUT_RAW).order_by(ReceivedMessage.mailbox))
    return list(rows.scalars())


def received_raw(session: Session, received_id: str) -> bytes:
    """A staged message's raw bytes, as the mailbox gave them."""
    raw = session.execute(
        select(ReceivedMessage.raw).where(ReceivedMessage.id == received_id)
    ).scalar_one_or_none()
    if raw is None:
        raise NotFoundError("received message", received_id)
    return bytes(raw)


def ledger_reasons(
    session: Session, refs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """``(mailbox, gmail message id)`` -> the reason its ledger row records."""
    if not refs:
        return {}
    wanted = set(refs)
    rows = session.execute(
        select(
            ReceivedMessage.mailbox, ReceivedMessage.gmail_message_id, ReceivedMessage.reason
        ).where(ReceivedMessage.gmail_message_id.in_(sorted({gmail_id for _, gmail_id in refs})))
    )
    return {
        (mailbox, gmail_id): reason
        for mailbox, gmail_id, reason in rows
        if (mailbox, gmail_id) in wanted
    }


def raw_head(session: Session, received_id: str, limit: int) -> bytes:
    """The first ``limit`` bytes of a message: enough for its headers, without reading
    a large message whole."""
    head = session.execute(
        select(func.substr(ReceivedMessage.raw, 1, limit)).where(ReceivedMessage.id == received_id)
    ).scalar_one_or_none()
    if head is None:
        raise NotFoundError("received message", received_id)
    return bytes(head)


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
    """What sending a staged message to ingestion needs: where it is, and its size."""

    mailbox: str
    gmail_message_id: str
    size: int


def reset_for_retry(session: Session, received_ids: Sequence[str]) -> list[LedgerRef]:
    """Put messages (quarantined, or any) back to pending so they are processed again.

    One UPDATE per chunk of ids, never reading the raw bytes (quarantined messages are
    often the largest); returns the messages in the order given. An unknown id raises
    NotFoundError and, the caller's transaction rolling back, resets nothing.
    """
    ids = list(dict.fromkeys(received_ids))
    found: dict[str, LedgerRef] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            update(ReceivedMessage)
            .where(ReceivedMessage.id.in_(ids[start : start + _CHUNK]))
            .values(outcome=IngestOutcome.PENDING, reason=None, attempts=0, processed_at=None)
            .returning(
                ReceivedMessage.id,
                ReceivedMessage.mailbox,
                ReceivedMessage.gmail_message_id,
                ReceivedMessage.size,
            )
        )
        for received_id, mailbox, gmail_id, size in rows:
            found[received_id] = LedgerRef(mailbox, gmail_id, size)
    if missing := [received_id for received_id in ids if received_id not in found]:
        raise NotFoundError("received message", missing[0])
    return [found[received_id] for received_id in ids]


def list_received(
    session: Session,
    *,
    outcome: IngestOutcome | None = None,
    mailbox: str | None = None,
    ids: Sequence[str] | None = None,
    limit: int | None = 100,
) -> list[ReceivedMessage]:
    """Ledger rows, newest first, without their raw bytes (loaded if asked for)."""
    statement = select(ReceivedMessage).options(_WITHOUT_RAW)
    if ids is not None:
        statement = statement.where(ReceivedMessage.id.in_(list(ids)))
    if outcome is not None:
        statement = statement.where(ReceivedMessage.outcome == outcome)
    if mailbox is not None:
        statement = statement.where(ReceivedMessage.mailbox == mailbox_key(mailbox))
    statement = statement.order_by(ReceivedMessage.staged_at.desc())
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.execute(statement).scalars())


def quarantined_ids(session: Session, mailbox: str | None = None) -> list[str]:
    """The ids of every quarantined message, oldest staged first."""
    statement = select(ReceivedMessage.id).where(
        ReceivedMessage.outcome == IngestOutcome.QUARANTINED
    )
    if mailbox is not None:
        statement = statement.where(ReceivedMessage.mailbox == mailbox_key(mailbox))
    return list(session.execute(statement.order_by(ReceivedMessage.staged_at)).scalars())


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


def still_pending(session: Session, mailbox: str, gmail_message_ids: Sequence[str]) -> set[str]:
    """Those of ``gmail_message_ids`` whose outcome is still pending."""
    ids = list(gmail_message_ids)
    found: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        found.update(
            session.execute(
                select(ReceivedMessage.gmail_message_id).where(
                    ReceivedMessage.mailbox == mailbox_key(mailbox),
                    ReceivedMessage.gmail_message_id.in_(ids[i : i + _CHUNK]),
                    ReceivedMessage.outcome == IngestOutcome.PENDING,
                )
            ).scalars()
        )
    return found
