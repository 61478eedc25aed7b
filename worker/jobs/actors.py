"""The actors. Each takes ids, runs its work in one transaction and is idempotent.

- ingest_message(mailbox, gmail_message_id): file one staged message.
- ingest_batch(mailbox, gmail_message_ids): the same for many, in one transaction.
- update_customer_stats(customer_id): recompute a customer's figures (repairs; ingestion
  recomputes them in its own transaction, after locking the customer rows, so that
  concurrent jobs cannot leave them stale and no follow-up job is needed).
- replay_thread(mailbox, gmail_thread_id): ingest every staged message of a thread again.
- ingest_gave_up(...): an ingest job's retries are exhausted; its messages stay pending
  for the resume to send again, and go to quarantine after GIVE_UP_ROUNDS such rounds.

Transient failures (database restart, deadlock, Redis blip) are retried: quickly in
process first, then by Dramatiq with exponential backoff. Any other failure is
permanent: the message is quarantined at once with the reason, and the queue moves on.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

import dramatiq
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core import services
from crm_core.errors import NotFoundError
from crm_core.inbox import (
    claim_received_message,
    claim_received_messages,
    record_outcome,
    reset_for_retry,
)
from crm_core.models import ReceivedMessage
from crm_core.normalize import mailbox_key
from crm_core.statuses import IngestOutcome
from worker.ingest.bulk import ingest_many
from worker.ingest.pipeline import IngestResult, finish, ingest_received
from worker.jobs.broker import placeholder
from worker.jobs.errors import describe_error
from worker.jobs.outbox import unit_of_work
from worker.jobs.packing import jobs_by_mailbox
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
    try:
        with unit_of_work(runtime.sessions) as (session, _):
            received = claim_received_message(session, mailbox, gmail_message_id)
            if received is None:
                return None
            return ingest_received(session, received, runtime.rules, runtime.limits)
    except Exception as exc:
        if is_transient(exc):
            raise
        # Permanent: the transaction rolled back all partial work; set the message
        # aside in a fresh one so the queue moves on and nothing is lost.
        log.exception("quarantined", extra={"mailbox": mailbox, "gmail_id": gmail_message_id})
        return _quarantine(runtime.sessions, mailbox, gmail_message_id, exc)


def _quarantine(
    sessions: sessionmaker[Session], mailbox: str, gmail_message_id: str, exc: Exception
) -> IngestResult | None:
    reason = f"error: {describe_error(exc)}"
    with unit_of_work(sessions) as (session, _):
        received = claim_received_message(session, mailbox, gmail_message_id)
        if received is None:
            return None
        return finish(received, IngestOutcome.QUARANTINED, reason)


@dramatiq.actor(
    actor_name="ingest_batch",
    queue_name="ingest",
    broker=placeholder,
    retry_when=_retry_transient,
    on_retry_exhausted="ingest_gave_up",
)
def ingest_batch(mailbox: str, gmail_message_ids: list[str]) -> None:
    """Ingest many staged messages in one transaction (the fast path for bulk mail).

    If any message fails permanently the whole batch rolls back and each message is
    sent on as its own ingest_message job, so one bad message costs only itself.
    """
    started = time.perf_counter()
    runtime = get_runtime()
    try:
        for attempt in quick_retries():
            with attempt:
                results = _ingest_batch_once(runtime.sessions, mailbox, gmail_message_ids)
    except Exception as exc:
        if is_transient(exc):
            raise
        log.warning(
            "batch split after a permanent error",
            extra={
                "mailbox": mailbox,
                "size": len(gmail_message_ids),
                "error": describe_error(exc),
            },
        )
        for gmail_message_id in gmail_message_ids:
            ingest_message.send(mailbox, gmail_message_id)
        return
    log.info(
        "ingested batch",
        extra={
            "mailbox": mailbox,
            "size": len(gmail_message_ids),
            "outcomes": dict(Counter(r.outcome.value for r in results)),
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


def _ingest_batch_once(
    sessions: sessionmaker[Session], mailbox: str, gmail_message_ids: list[str]
) -> list[IngestResult]:
    runtime = get_runtime()
    with unit_of_work(sessions) as (session, _):
        claimed = claim_received_messages(session, mailbox, gmail_message_ids)
        # An id twice in one job (an export holding a message twice) is filed once.
        rows = [claimed[gid] for gid in dict.fromkeys(gmail_message_ids) if gid in claimed]
        results = ingest_many(session, rows, runtime.rules, runtime.limits)
    return results


# Times a message's jobs may run out of retries before it is set aside in quarantine.
GIVE_UP_ROUNDS = 3


@dramatiq.actor(actor_name="ingest_gave_up", queue_name="ingest", broker=placeholder)
def ingest_gave_up(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """An ingest job ran out of retries on transient errors (the database or the broker
    away for minutes). Its messages stay pending, with the reason, so that the resume
    (`crm ingest resume`, and the watcher's every few minutes) sends them again once the
    outage is over: no one has to retry them by hand. A message whose jobs give up
    GIVE_UP_ROUNDS times goes to quarantine instead, so nothing is retried forever.

    ``message`` is the exhausted ingest_message or ingest_batch job; the second of its
    arguments is one Gmail id or a list of them. Messages another job filed meanwhile
    keep their outcome.
    """
    mailbox, target = message["args"][:2]
    gmail_message_ids = target if isinstance(target, list) else [target]
    quarantined = 0
    with unit_of_work(get_runtime().sessions) as (session, _):
        claimed = claim_received_messages(session, mailbox, gmail_message_ids)
        stuck = [r for r in claimed.values() if r.outcome == IngestOutcome.PENDING]
        for received in stuck:
            received.attempts += 1
            reason = (
                f"gave up {received.attempts} of {GIVE_UP_ROUNDS} times: "
                "the database or the broker kept failing"
            )
            if received.attempts >= GIVE_UP_ROUNDS:
                record_outcome(received, IngestOutcome.QUARANTINED, reason)
                quarantined += 1
            else:
                received.reason = reason
    log.error(
        "ingest gave up",
        extra={
            "mailbox": mailbox,
            "size": len(gmail_message_ids),
            "pending": len(stuck) - quarantined,
            "quarantined": quarantined,
            "retries": retry_info.get("retries"),
        },
    )


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
    """Ingest every staged message of the thread again (idempotent: nothing doubles),
    oldest first, so that a reply is filed after what it answers."""
    key = mailbox_key(mailbox)
    with unit_of_work(get_runtime().sessions) as (session, outbox):
        ids = session.execute(
            select(ReceivedMessage.id)
            .where(
                ReceivedMessage.mailbox == key,
                ReceivedMessage.gmail_thread_id == gmail_thread_id,
            )
            .order_by(ReceivedMessage.received_at, ReceivedMessage.staged_at)
        ).scalars()
        for box, job in jobs_by_mailbox(reset_for_retry(session, list(ids))):
            outbox.send(ingest_batch, box, job)


ALL: list[dramatiq.Actor[Any, Any]] = [
    ingest_message,
    ingest_batch,
    ingest_gave_up,
    update_customer_stats,
    replay_thread,
]
