"""What the ledger knows about a mailbox's messages, for syncs, audits and replays.

Reads select a few columns only: a ledger row holds the raw message, which a sync
deciding what to fetch must not load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.orm import Session

from crm_core.inbox.outcomes import CHUNK, LedgerRef
from crm_core.models import ReceivedMessage
from crm_core.normalize import mailbox_key
from crm_core.statuses import IngestOutcome

# Recorded in label_ids when Gmail reports a message deleted. Gmail's label ids never
# contain a colon (system labels are upper-case words, user labels "Label_N").
DELETED_MARKER = "CRM:DELETED"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    gmail_message_id: str
    outcome: IngestOutcome
    reason: str | None
    label_ids: tuple[str, ...]
    size: int  # raw bytes
    gmail_thread_id: str | None = None

    @property
    def pending(self) -> bool:
        return self.outcome is IngestOutcome.PENDING

    def ref(self, mailbox: str) -> LedgerRef:
        return LedgerRef(mailbox, self.gmail_message_id, self.size, self.gmail_thread_id)


# The columns a LedgerEntry is made of, in its fields' order (never the raw bytes).
_ENTRY_COLUMNS = (
    ReceivedMessage.gmail_message_id,
    ReceivedMessage.outcome,
    ReceivedMessage.reason,
    ReceivedMessage.label_ids,
    ReceivedMessage.size,
    ReceivedMessage.gmail_thread_id,
)


def _entry(row: Row[str, IngestOutcome, str | None, list[str], int, str | None]) -> LedgerEntry:
    gmail_id, outcome, reason, labels, size, thread_id = row
    return LedgerEntry(gmail_id, outcome, reason, tuple(labels or ()), size, thread_id)


def entries(session: Session, mailbox: str, gmail_ids: Iterable[str]) -> dict[str, LedgerEntry]:
    """The ledger rows among ``gmail_ids``, by Gmail id."""
    key = mailbox_key(mailbox)
    ids = list(dict.fromkeys(gmail_ids))
    found: dict[str, LedgerEntry] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(*_ENTRY_COLUMNS).where(
                ReceivedMessage.mailbox == key,
                ReceivedMessage.gmail_message_id.in_(ids[start : start + CHUNK]),
            )
        )
        found.update((entry.gmail_message_id, entry) for entry in map(_entry, rows))
    return found


def count_in_mailbox(session: Session, mailbox: str) -> int:
    """How many messages of ``mailbox`` the ledger holds."""
    return int(
        session.execute(
            select(func.count())
            .select_from(ReceivedMessage)
            .where(ReceivedMessage.mailbox == mailbox_key(mailbox))
        ).scalar_one()
    )


def set_labels(session: Session, mailbox: str, labels: Mapping[str, Sequence[str]]) -> None:
    """Store the new labels of many messages ({gmail id: labels}) in one statement."""
    if not labels:
        return
    table = ReceivedMessage.__table__
    session.execute(
        update(table)  # type: ignore[arg-type]
        .where(
            table.c.mailbox == mailbox_key(mailbox),
            table.c.gmail_message_id == bindparam("gmail_id"),
        )
        .values(label_ids=bindparam("labels", type_=table.c.label_ids.type)),
        [{"gmail_id": gid, "labels": list(values)} for gid, values in labels.items()],
    )


def pending_refs(session: Session, staged_before: datetime, limit: int) -> list[LedgerRef]:
    """Messages still pending that were staged before ``staged_before``, oldest first."""
    rows = session.execute(
        select(
            ReceivedMessage.mailbox,
            ReceivedMessage.gmail_message_id,
            ReceivedMessage.size,
            ReceivedMessage.gmail_thread_id,
        )
        .where(
            ReceivedMessage.outcome == IngestOutcome.PENDING,
            ReceivedMessage.staged_at <= staged_before,
        )
        .order_by(ReceivedMessage.staged_at)
        .limit(limit)
    )
    return [LedgerRef(*row) for row in rows]


def thread_received_ids(session: Session, mailbox: str, gmail_thread_id: str) -> list[str]:
    """The ledger ids of a thread's messages, oldest first; those whose raw bytes
    retention dropped are left out (there is nothing to ingest again)."""
    return list(
        session.execute(
            select(ReceivedMessage.id)
            .where(
                ReceivedMessage.mailbox == mailbox_key(mailbox),
                ReceivedMessage.gmail_thread_id == gmail_thread_id,
                func.length(ReceivedMessage.raw) > 0,
            )
            .order_by(ReceivedMessage.received_at, ReceivedMessage.staged_at)
        ).scalars()
    )


def thread_outcomes(
    session: Session, mailbox: str, gmail_thread_id: str
) -> dict[str, tuple[IngestOutcome, str | None]]:
    """{Gmail id: (outcome, reason)} for a thread's messages."""
    rows = session.execute(
        select(
            ReceivedMessage.gmail_message_id, ReceivedMessage.outcome, ReceivedMessage.reason
        ).where(
            ReceivedMessage.mailbox == mailbox_key(mailbox),
            ReceivedMessage.gmail_thread_id == gmail_thread_id,
        )
    )
    return {gmail_id: (outcome, reason) for gmail_id, outcome, reason in rows}


def skipped_for_a_label(session: Session, mailbox: str) -> dict[str, LedgerEntry]:
    """Messages skipped because of a Gmail label (reason ``label:…``), by Gmail id."""
    rows = session.execute(
        select(*_ENTRY_COLUMNS).where(
            ReceivedMessage.mailbox == mailbox_key(mailbox),
            ReceivedMessage.outcome == IngestOutcome.SKIPPED,
            ReceivedMessage.reason.like("label:%"),
        )
    )
    return {entry.gmail_message_id: entry for entry in map(_entry, rows)}
