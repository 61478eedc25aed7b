"""Handing fetched messages to ingestion: stage them, then send their jobs after commit.

Staging is idempotent on (mailbox, Gmail id), and jobs go out only after the
transaction that staged their rows has committed (worker.jobs.outbox), so a crash
anywhere leaves either nothing or staged rows that the next sync finds pending and
sends again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from crm_core.inbox import StagedMessage, stage_messages
from worker.gmail.fetch import RawMessage
from worker.jobs.actors import ingest_message
from worker.jobs.outbox import unit_of_work
from worker.jobs.runtime import Runtime

SOURCE = "gmail"


def to_staged(mailbox: str, message: RawMessage) -> StagedMessage:
    received_at = None
    if message.internal_date_ms is not None:
        received_at = datetime.fromtimestamp(message.internal_date_ms / 1000, UTC)
    return StagedMessage(
        mailbox=mailbox,
        gmail_message_id=message.id,
        raw=message.raw,
        source=SOURCE,
        gmail_thread_id=message.thread_id,
        label_ids=message.label_ids,
        received_at=received_at,
    )


def stage_fetched(runtime: Runtime, mailbox: str, messages: Sequence[RawMessage]) -> list[str]:
    """Stage one batch in one transaction; send ``ingest_message`` for the new ones."""
    if not messages:
        return []
    with unit_of_work(runtime.sessions) as (session, outbox):
        new = stage_messages(session, [to_staged(mailbox, m) for m in messages])
        for gmail_id in new:
            outbox.send(ingest_message, mailbox, gmail_id)
    return new


def send_ingest(mailbox: str, gmail_ids: Iterable[str]) -> int:
    """Send ingest jobs for staged messages (ingestion is idempotent: doubles are harmless)."""
    count = 0
    for gmail_id in gmail_ids:
        ingest_message.send(mailbox, gmail_id)
        count += 1
    return count
