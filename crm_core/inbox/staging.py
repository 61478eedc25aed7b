"""Staging: raw messages from any source (Gmail, an export, a retry) into the ledger."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from crm_core.ids import new_id
from crm_core.models import ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.normalize import mailbox_key
from crm_core.statuses import IngestOutcome


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
