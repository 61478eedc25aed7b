"""Handing fetched messages to ingestion: stage them, then send their jobs after commit.

Staging is idempotent on (mailbox, Gmail id), and jobs go out only after the
transaction that staged their rows has committed (worker.jobs.outbox), so a crash
anywhere leaves either nothing or staged rows that the next sync finds pending and
sends again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from crm_core.inbox import StagedMessage, stage_messages
from worker.gmail.fetch import RawMessage
from worker.jobs.actors import ingest_batch
from worker.jobs.outbox import unit_of_work
from worker.jobs.packing import job_chunks
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
    """Stage one batch in one transaction; one ``ingest_batch`` job for the new ones.

    Oldest first within the job, so that a reply is filed after what it answers.
    """
    if not messages:
        return []
    with unit_of_work(runtime.sessions) as (session, outbox):
        new = set(stage_messages(session, [to_staged(mailbox, m) for m in messages]))
        ordered = [
            m.id for m in sorted(messages, key=lambda m: m.internal_date_ms or 0) if m.id in new
        ]
        for job in job_chunks(ordered, {m.id: len(m.raw) for m in messages}):
            outbox.send(ingest_batch, mailbox, job)
    return ordered


def send_ingest(mailbox: str, sizes: Mapping[str, int]) -> int:
    """Send ingest jobs for staged messages, ``{gmail id: raw size}`` (ingestion is
    idempotent: doubles are harmless)."""
    ids = list(sizes)
    for job in job_chunks(ids, sizes):
        ingest_batch.send(mailbox, job)
    return len(ids)
