"""Sending the jobs of staged messages that are still pending.

The ledger, not the queue, is the record of what must be done: a job lost with a
flushed Redis, or dead-lettered while the database was down for long, leaves its
message pending, and this sends it again. Safe to run any time: ingestion is
idempotent and already-processed messages are skipped.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crm_core.models import ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome
from worker.jobs.actors import ingest_batch
from worker.jobs.outbox import unit_of_work
from worker.jobs.packing import jobs_by_mailbox
from worker.jobs.runtime import Runtime


def resend_pending(runtime: Runtime, older_than_seconds: float = 60, limit: int = 100_000) -> int:
    """Send ingest jobs for messages pending longer than ``older_than_seconds``."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with unit_of_work(runtime.sessions) as (session, outbox):
        rows = session.execute(
            select(ReceivedMessage.mailbox, ReceivedMessage.gmail_message_id, ReceivedMessage.size)
            .where(
                ReceivedMessage.outcome == IngestOutcome.PENDING,
                ReceivedMessage.staged_at <= cutoff,
            )
            .order_by(ReceivedMessage.staged_at)
            .limit(limit)
        ).all()
        for mailbox, job in jobs_by_mailbox(rows):
            outbox.send(ingest_batch, mailbox, job)
    return len(rows)
