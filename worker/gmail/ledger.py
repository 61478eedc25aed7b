"""What the received-message ledger already knows about a mailbox's Gmail ids.

Reads select a few columns only: a ledger row holds the raw message, which a sync
deciding what to fetch must not load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from crm_core.models import ReceivedMessage
from crm_core.statuses import IngestOutcome

# SQLite allows 999 bound parameters per statement in older builds.
_CHUNK = 900

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

    @property
    def pending(self) -> bool:
        return self.outcome is IngestOutcome.PENDING


def entries(session: Session, mailbox: str, gmail_ids: Iterable[str]) -> dict[str, LedgerEntry]:
    """The ledger rows among ``gmail_ids`` (mailbox given lower-case), by Gmail id."""
    ids = list(dict.fromkeys(gmail_ids))
    found: dict[str, LedgerEntry] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(
                ReceivedMessage.gmail_message_id,
                ReceivedMessage.outcome,
                ReceivedMessage.reason,
                ReceivedMessage.label_ids,
                ReceivedMessage.size,
            ).where(
                ReceivedMessage.mailbox == mailbox,
                ReceivedMessage.gmail_message_id.in_(ids[start : start + _CHUNK]),
            )
        )
        for gmail_id, outcome, reason, labels, size in rows:
            found[gmail_id] = LedgerEntry(gmail_id, outcome, reason, tuple(labels or ()), size)
    return found


def set_labels(session: Session, mailbox: str, labels: Mapping[str, Sequence[str]]) -> None:
    """Store the new labels of many messages ({gmail id: labels}) in one statement."""
    if not labels:
        return
    table = ReceivedMessage.__table__
    session.execute(
        update(table)  # type: ignore[arg-type]
        .where(
            table.c.mailbox == mailbox,
            table.c.gmail_message_id == bindparam("gmail_id"),
        )
        .values(label_ids=bindparam("labels", type_=table.c.label_ids.type)),
        [{"gmail_id": gid, "labels": list(values)} for gid, values in labels.items()],
    )


def reopen_skipped(session: Session, mailbox: str, gmail_id: str) -> bool:
    """Put a skipped message back to pending so it is classified again; False if it
    is no longer skipped (a worker got there first)."""
    result = session.execute(
        update(ReceivedMessage)
        .where(
            ReceivedMessage.mailbox == mailbox,
            ReceivedMessage.gmail_message_id == gmail_id,
            ReceivedMessage.outcome == IngestOutcome.SKIPPED,
        )
        .values(outcome=IngestOutcome.PENDING, reason=None, attempts=0, processed_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
