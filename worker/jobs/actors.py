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

from sqlalchemy.orm import Session, sessionmaker

from crm_core import services
from crm_core.errors import NotFoundError
from crm_core.inbox import (
    claim_received_message,
    claim_received_messages,
    record_gave_up,
    reset_for_retry,
    thread_received_ids,
)
from crm_core.statuses import IngestOutcome
from worker.ingest.bulk import ingest_many
from worker.ingest.pipeline import IngestResult, finish, ingest_received
from worker.intake import send_staged
from worker.jobs.broker import job
from worker.jobs.transient import is_transient, quick_retries
from worker.observability.errors import describe_error
from worker.runtime import enqueue, get_runtime, sending, unit_of_work

log = logging.getLogger("worker.jobs")


def _retry_transient(retries: int, exc: BaseException) -> bool:
    max_retries = get_runtime().settings.worker.max_retries
    return is_transient(exc) and retries < max_retries


@job("ingest_message", retry_when=_retry_transient, on_retry_exhausted="ingest_gave_up")
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
        with unit_of_work(runtime.sessions) as session:
            received = claim_received_message(session, mailbox, gmail_message_id)
            if received is None:
                return None
            return ingest_received(
                session, received, runtime.rules, runtime.limits, runtime.address_hasher
            )
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
    with unit_of_work(sessions) as session:
        received = claim_received_message(session, mailbox, gmail_message_id)
        if received is None:
            return None
        return finish(received, IngestOutcome.QUARANTINED, reason)


@job("ingest_batch", retry_when=_retry_transient, on_retry_exhausted="ingest_gave_up")
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
        with sending():
            for gmail_message_id in gmail_message_ids:
                enqueue("ingest_message", mailbox, gmail_message_id)
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
    with unit_of_work(sessions) as session:
        claimed = claim_received_messages(session, mailbox, gmail_message_ids)
        # An id twice in one job (an export holding a message twice) is filed once.
        rows = [claimed[gid] for gid in dict.fromkeys(gmail_message_ids) if gid in claimed]
        results = ingest_many(session, rows, runtime.rules, runtime.limits, runtime.address_hasher)
    return results


# Times a message's jobs may run out of retries before it is set aside in quarantine.
GIVE_UP_ROUNDS = 3


@job("ingest_gave_up")
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
    with unit_of_work(get_runtime().sessions) as session:
        pending, quarantined = record_gave_up(session, mailbox, gmail_message_ids, GIVE_UP_ROUNDS)
    log.error(
        "ingest gave up",
        extra={
            "mailbox": mailbox,
            "size": len(gmail_message_ids),
            "pending": pending,
            "quarantined": quarantined,
            "retries": retry_info.get("retries"),
        },
    )


@job("update_customer_stats", retry_when=_retry_transient)
def update_customer_stats(customer_id: str) -> None:
    for attempt in quick_retries():
        with attempt, unit_of_work(get_runtime().sessions) as session:
            try:
                services.update_customer_stats(session, customer_id)
            except NotFoundError:
                log.warning("stats for a missing customer", extra={"customer_id": customer_id})


@job("replay_thread", retry_when=_retry_transient)
def replay_thread(mailbox: str, gmail_thread_id: str) -> None:
    """Ingest every staged message of the thread again (idempotent: nothing doubles),
    oldest first, so that a reply is filed after what it answers."""
    with unit_of_work(get_runtime().sessions) as session:
        ids = thread_received_ids(session, mailbox, gmail_thread_id)
        send_staged(reset_for_retry(session, ids))
