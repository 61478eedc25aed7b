"""The actors. Each takes ids, runs its work in one transaction and is idempotent.

- ingest_message(mailbox, gmail_message_id): file one staged message.
- update_customer_stats(customer_id): recompute a customer's figures.
- replay_thread(mailbox, gmail_thread_id): ingest every staged message of a thread again.
- ingest_gave_up(...): retries exhausted; quarantine the message instead of dropping it.

Transient failures (database restart, deadlock, Redis blip) are retried: quickly in
process first, then by Dramatiq with exponential backoff. Any other failure is
permanent: the message is quarantined at once with the reason, and the queue moves on.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import dramatiq
from sqlalchemy import select

from crm_core import services
from crm_core.errors import NotFoundError
from crm_core.inbox import claim_received_message, record_outcome
from crm_core.models import ReceivedMessage
from crm_core.statuses import IngestOutcome
from worker.ingest.pipeline import IngestResult, ingest_received
from worker.jobs.broker import placeholder
from worker.jobs.errors import describe_error
from worker.jobs.outbox import unit_of_work
from worker.jobs.runtime import get_runtime
from worker.jobs.transient import is_transient, quick_retries

log = logging.getLogger("worker.jobs")


def _retry_transient(retries: int, exc: BaseException) -> bool:
    max_retries = get_runtime().settings.worker.max_retries
    return is_transient(exc) and retries < max_retries


@dramatiq.actor(
    actor_name="ingest_message",
    queue_name="ingest",
    broker=placeholder,
    retry_when=_retry_transient,
    on_retry_exhausted="ingest_gave_up",
)
def ingest_message(mailbox: str, gmail_message_id: str) -> None:
    started = time.perf_counter()
    result: IngestResult | None = None
    for attempt in quick_retries():
        with attempt:
            result = _ingest_once(mailbox, gmail_message_id)
    if result is None:
        log.warning("not staged", extra={"mailbox": mailbox, "gmail_id": gmail_message_id})
        return
    log.info(
        "ingested",
        extra={
            "mailbox": mailbox,
            "gmail_id": gmail_message_id,
            "outcome": result.outcome.value,
            "reason": result.reason,
            "again": result.already_processed,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


def _ingest_once(mailbox: str, gmail_message_id: str) -> IngestResult | None:
    runtime = get_runtime()
    with unit_of_work(runtime.sessions) as (session, outbox):
        received = claim_received_message(session, mailbox, gmail_message_id)
        if received is None:
            return None
        try:
            with session.begin_nested():
                result = ingest_received(session, received, runtime.rules, runtime.limits)
        except Exception as exc:
            if is_transient(exc):
                raise
            # Permanent: the savepoint undid the partial work; keep the message aside.
            received.attempts += 1
            reason = f"error: {describe_error(exc)}"
            record_outcome(received, IngestOutcome.QUARANTINED, reason)
            log.exception("quarantined", extra={"mailbox": mailbox, "gmail_id": gmail_message_id})
            return IngestResult(IngestOutcome.QUARANTINED, reason)
        if result.lead_id and result.customer_id and not result.already_processed:
            # Linking the lead updated the figures already; this recompute runs after
            # commit and repairs what a concurrent transaction may have hidden from it.
            outbox.send(update_customer_stats, result.customer_id)
        return result


@dramatiq.actor(actor_name="ingest_gave_up", queue_name="ingest", broker=placeholder)
def ingest_gave_up(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """Retries are exhausted: quarantine the message so it is seen and can be retried."""
    mailbox, gmail_message_id = message["args"][:2]
    runtime = get_runtime()
    with unit_of_work(runtime.sessions) as (session, _):
        received = claim_received_message(session, mailbox, gmail_message_id)
        if received is not None and received.outcome == IngestOutcome.PENDING:
            reason = f"gave up after {retry_info.get('retries', '?')} attempts"
            record_outcome(received, IngestOutcome.QUARANTINED, reason)


@dramatiq.actor(
    actor_name="update_customer_stats",
    queue_name="stats",
    broker=placeholder,
    retry_when=_retry_transient,
)
def update_customer_stats(customer_id: str) -> None:
    for attempt in quick_retries():
        with attempt, unit_of_work(get_runtime().sessions) as (session, _):
            try:
                services.update_customer_stats(session, customer_id)
            except NotFoundError:
                log.warning("stats for a missing customer", extra={"customer_id": customer_id})


@dramatiq.actor(
    actor_name="replay_thread",
    queue_name="ingest",
    broker=placeholder,
    retry_when=_retry_transient,
)
def replay_thread(mailbox: str, gmail_thread_id: str) -> None:
    """Ingest every staged message of the thread again (idempotent: nothing doubles)."""
    with unit_of_work(get_runtime().sessions) as (session, outbox):
        rows = session.execute(
            select(ReceivedMessage).where(
                ReceivedMessage.mailbox == mailbox.strip().lower(),
                ReceivedMessage.gmail_thread_id == gmail_thread_id,
            )
        ).scalars()
        for received in rows:
            received.outcome = IngestOutcome.PENDING
            received.reason = None
            received.attempts = 0
            outbox.send(ingest_message, received.mailbox, received.gmail_message_id)


ALL: list[dramatiq.Actor[Any, Any]] = [
    ingest_message,
    ingest_gave_up,
    update_customer_stats,
    replay_thread,
]
