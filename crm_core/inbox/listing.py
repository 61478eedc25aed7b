"""Reading the ledger for people: one row, a list, counts by outcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, defer

from crm_core.errors import ConflictError, NotFoundError
from crm_core.inbox.outcomes import CHUNK
from crm_core.models import ReceivedMessage
from crm_core.normalize import mailbox_key
from crm_core.paging import checked_limit
from crm_core.statuses import IngestOutcome

_WITHOUT_RAW = defer(ReceivedMessage.raw)  # a row's raw bytes can be megabytes

# Pending again after its jobs ran out of retries: a pending row's attempts count only
# the times its ingestion gave up (an outcome, a reset or staging sets them anew).
PENDING_AFTER_RETRIES = (ReceivedMessage.outcome == IngestOutcome.PENDING) & (
    ReceivedMessage.attempts > 0
)


def get_received_message(session: Session, received_id: str) -> ReceivedMessage:
    """One ledger row; its raw bytes are loaded when first read."""
    found = session.get(ReceivedMessage, received_id, options=[_WITHOUT_RAW])
    if found is None:
        raise NotFoundError("received message", received_id)
    return found


def raw_head(session: Session, received_id: str, limit: int) -> bytes:
    """The first ``limit`` bytes of a message: enough for its headers, without reading
    a large message whole."""
    row = session.execute(
        select(ReceivedMessage.id, func.substr(ReceivedMessage.raw, 1, limit)).where(
            ReceivedMessage.id == received_id
        )
    ).first()
    if row is None:
        raise NotFoundError("received message", received_id)
    # Retention leaves b"" behind; SQLite gives NULL for a substring of an empty blob.
    return bytes(row[1] or b"")


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
    if checked_limit(limit) is not None:
        statement = statement.limit(limit)
    return list(session.execute(statement).scalars())


def quarantined_ids(session: Session, mailbox: str | None = None) -> list[str]:
    """The ids of every quarantined message that can still be retried (its raw bytes
    not dropped by retention), oldest staged first."""
    statement = select(ReceivedMessage.id).where(
        ReceivedMessage.outcome == IngestOutcome.QUARANTINED,
        func.length(ReceivedMessage.raw) > 0,
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
            base.where(ReceivedMessage.gmail_message_id.in_(ids[i : i + CHUNK]))
            for i in range(0, len(ids), CHUNK)
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
    for i in range(0, len(ids), CHUNK):
        found.update(
            session.execute(
                select(ReceivedMessage.gmail_message_id).where(
                    ReceivedMessage.mailbox == mailbox_key(mailbox),
                    ReceivedMessage.gmail_message_id.in_(ids[i : i + CHUNK]),
                    ReceivedMessage.outcome == IngestOutcome.PENDING,
                )
            ).scalars()
        )
    return found


@dataclass(frozen=True, slots=True)
class LedgerCounts:
    stored_since: int
    skipped_since: int
    pending: int
    pending_after_retries: int
    quarantined: int


def ledger_counts(session: Session, since: datetime, mailbox: str | None = None) -> LedgerCounts:
    """The ledger's figures for ``crm status``: stored and skipped since ``since``,
    pending (and how many of those after their jobs ran out of retries), quarantined
    and still retryable."""

    def count(*where: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(ReceivedMessage).where(*where)
        if mailbox is not None:
            statement = statement.where(ReceivedMessage.mailbox == mailbox_key(mailbox))
        return int(session.execute(statement).scalar_one())

    return LedgerCounts(
        stored_since=count(
            ReceivedMessage.outcome == IngestOutcome.STORED, ReceivedMessage.processed_at >= since
        ),
        skipped_since=count(
            ReceivedMessage.outcome == IngestOutcome.SKIPPED,
            ReceivedMessage.processed_at >= since,
        ),
        pending=count(ReceivedMessage.outcome == IngestOutcome.PENDING),
        pending_after_retries=count(PENDING_AFTER_RETRIES),
        # Those retention ended (raw bytes dropped) need no one: they cannot be retried.
        quarantined=count(
            ReceivedMessage.outcome == IngestOutcome.QUARANTINED,
            func.length(ReceivedMessage.raw) > 0,
        ),
    )


def count_pending_after_retries(session: Session) -> int:
    """Messages pending again after their ingest jobs ran out of retries."""
    statement = select(func.count()).select_from(ReceivedMessage).where(PENDING_AFTER_RETRIES)
    return int(session.execute(statement).scalar_one())


def find_received_by_gmail_id(
    session: Session, gmail_message_id: str, mailbox: str | None = None
) -> list[ReceivedMessage]:
    """The ledger rows of a Gmail message id, in ``mailbox`` or in every mailbox
    (raw bytes not loaded), by mailbox."""
    query = select(ReceivedMessage).where(ReceivedMessage.gmail_message_id == gmail_message_id)
    if mailbox is not None:
        query = query.where(ReceivedMessage.mailbox == mailbox_key(mailbox))
    rows = session.execute(query.options(_WITHOUT_RAW).order_by(ReceivedMessage.mailbox))
    return list(rows.scalars())


def received_raw(session: Session, received_id: str) -> bytes:
    """A staged message's raw bytes, as the mailbox gave them."""
    raw = session.execute(
        select(ReceivedMessage.raw).where(ReceivedMessage.id == received_id)
    ).scalar_one_or_none()
    if raw is None:
        raise NotFoundError("received message", received_id)
    if not raw:  # crm_core.inbox.retention dropped it
        raise ConflictError(f"received message {received_id}: retention dropped its raw mail")
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
