"""Sending the jobs of staged messages that are still pending.

The ledger, not the queue, is the record of what must be done: a job lost with a
flushed Redis, or dead-lettered while the database was down for long, leaves its
message pending, and this sends it again. Safe to run any time: ingestion is
idempotent and already-processed messages are skipped.
"""

from __future__ import annotations

from datetime import timedelta

from crm_core.inbox import pending_refs
from crm_core.models.types import utcnow
from crm_core.replies import replies_needing_jobs
from worker.intake import send_staged
from worker.runtime import Runtime, enqueue, unit_of_work


def resend_pending(runtime: Runtime, older_than_seconds: float = 60, limit: int = 100_000) -> int:
    """Send ingest jobs for messages pending longer than ``older_than_seconds``."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with unit_of_work(runtime.sessions) as session:
        return send_staged(pending_refs(session, cutoff, limit))


def resend_replies(
    runtime: Runtime, mailbox: str | None = None, older_than_seconds: float = 0
) -> int:
    """Send the job of every reply still to act on (queued, a send to look up, a
    draft to delete) and unchanged for ``older_than_seconds``: the database, not the
    queue, says what is left to do. A job sent twice is harmless (the row's state
    and lock decide what it does)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds) if older_than_seconds else None
    with unit_of_work(runtime.sessions) as session:
        waiting = replies_needing_jobs(session, mailbox, cutoff)
        for reply_id in waiting:
            enqueue("send_reply", reply_id)
    return len(waiting)
