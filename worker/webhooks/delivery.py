"""Delivering an endpoint's events, one at a time, in seq order.

``deliver_endpoint`` takes the endpoint's lease (crm_core.webhooks.claim_endpoint),
then sends its pending deliveries lowest seq first, each attempt recorded in its own
transaction. It stops at a delivery that is not due yet (a retry later: the caller
schedules the next run) and when its time budget is spent (the caller sends it again).
A process killed mid-attempt leaves the attempt unrecorded and the lease held; the
lease lapses after twice the timeout, and the sweep starts a new run, which sends the
same delivery again under the same webhook-id (receivers de-duplicate on it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_core import webhooks
from crm_core.db import transaction
from crm_core.models.types import utcnow
from worker.config import WebhooksSettings
from worker.observability.metrics import WEBHOOK_ATTEMPTS
from worker.runtime import Runtime
from worker.webhooks.address_check import Resolver, system_resolver
from worker.webhooks.sender import Policy, deliver_once

log = logging.getLogger("worker.webhooks")

BUSY_CHECK_SECONDS = 0.5


@dataclass
class EndpointRun:
    delivered: int = 0
    failed_attempts: int = 0
    next_due: datetime | None = None  # a retry waits until then
    more: bool = False  # the budget ran out with deliveries due
    yielded: bool = False  # stopped for more urgent work (``busy``)


def lease_seconds(settings: WebhooksSettings) -> float:
    """Longer than any one attempt can take, so a live run never loses its lease."""
    return settings.timeout_seconds * 2 + 5


def policy_of(settings: WebhooksSettings) -> Policy:
    return Policy(
        timeout_seconds=settings.timeout_seconds,
        allow_private_networks=settings.allow_private_networks,
        allow_http=settings.allow_http,
    )


def deliver_endpoint(
    runtime: Runtime,
    endpoint_id: str,
    *,
    budget_seconds: float | None = None,
    busy: Callable[[], bool] | None = None,
    resolve: Resolver = system_resolver,
) -> EndpointRun:
    """Deliver the endpoint's due deliveries in order, for at most ``budget_seconds``;
    ``busy`` (asked at most every ``BUSY_CHECK_SECONDS``) true stops the run early."""
    settings = runtime.settings.webhooks
    lease = lease_seconds(settings)
    run = EndpointRun()
    with transaction(runtime.sessions) as session:
        if not webhooks.claim_endpoint(session, endpoint_id, lease):
            return run  # disabled, gone, or another run holds it
    started = time.monotonic()
    next_check = started
    try:
        with transaction(runtime.sessions) as session:
            outgoing = webhooks.next_delivery(session, endpoint_id)
        while outgoing is not None:
            if outgoing.due_at > utcnow():
                run.next_due = outgoing.due_at
                return run
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                run.more = True
                return run
            if busy is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + BUSY_CHECK_SECONDS
                if busy():
                    run.yielded = True
                    return run
            attempt = deliver_once(outgoing, policy_of(settings), resolve=resolve)
            # The outcome, the lease and the next delivery in one transaction.
            with transaction(runtime.sessions) as session:
                webhooks.record_attempt(
                    session,
                    outgoing.delivery_id,
                    attempt,
                    retry_delays=settings.retry_delays_seconds,
                    disable_after=timedelta(hours=settings.disable_after_hours),
                )
                webhooks.extend_lease(session, endpoint_id, lease)
                outgoing = webhooks.next_delivery(session, endpoint_id)
            WEBHOOK_ATTEMPTS.labels("delivered" if attempt.succeeded else "failed").inc()
            if attempt.succeeded:
                run.delivered += 1
            else:
                run.failed_attempts += 1
                log.info(
                    "webhook attempt failed",
                    extra={
                        "endpoint": endpoint_id,
                        "status": attempt.status,
                        "why": attempt.text[:200],
                    },
                )
        return run
    finally:
        with transaction(runtime.sessions) as session:
            webhooks.release_endpoint(session, endpoint_id)
