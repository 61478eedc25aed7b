"""The webhook jobs, on the "webhooks" queue.

``webhook_fan_out()`` is sent after every commit that wrote events (worker.runtime's
``announce_events``); it creates the deliveries and sends ``deliver_webhooks`` for each
endpoint concerned. ``deliver_webhooks(endpoint_id)`` works through that endpoint's
deliveries in order (worker/webhooks/delivery.py) and sends itself again for the next
retry, at its time. Both are idempotent: a second fan-out finds nothing to do, a second
delivery run finds the lease taken or nothing due. The sweep (WebhookSweep below, and
`crm watch`) makes up for jobs that were lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from crm_core.models.types import utcnow
from worker.jobs.broker import job
from worker.jobs.rescore_sweep import send_wanted_rescore
from worker.runtime import enqueue, get_runtime, send_later, sending
from worker.runtime.outbox import current_broker
from worker.runtime.registry import queue_of
from worker.webhooks import deliver_endpoint, fan_out_all, sweep

log = logging.getLogger("worker.jobs")

# One run delivers for at most this long, then hands over to a new job, so that a long
# backlog never runs into Dramatiq's time limit nor holds a worker thread for long.
RUN_BUDGET_SECONDS = 5.0
# Below ingestion (Dramatiq's default is 0; higher numbers wait): a worker with an ingest
# job and a delivery to run takes the ingest job, and a delivery run stops while ingest
# jobs wait in the queue (trying again a second later), so a burst of mail is filed at
# full speed and its webhooks follow it.
PRIORITY = 100
YIELD_DELAY_MS = 1000


@contextmanager
def _inline_never_fails(what: str) -> Iterator[None]:
    """With the inline broker a job runs inside the command or ingest job that caused it:
    a webhook problem must not fail that work, which committed already. The sweep tries
    again. Through Redis, Dramatiq retries the job instead."""
    if not getattr(current_broker(), "runs_inline", False):
        yield
        return
    try:
        yield
    except Exception as exc:
        log.warning(f"{what} failed; the sweep tries again", extra={"error": repr(exc)[:200]})


@job("webhook_fan_out", priority=PRIORITY)
def webhook_fan_out() -> None:
    with _inline_never_fails("webhook fan-out"):
        if _ingestion_waiting():
            _fan_out_later()
            return
        endpoints = fan_out_all(get_runtime())
        with sending():
            for endpoint_id in endpoints:
                enqueue("deliver_webhooks", endpoint_id)


@job("deliver_webhooks", priority=PRIORITY)
def deliver_webhooks(endpoint_id: str) -> None:
    with _inline_never_fails("webhook delivery"):
        _deliver(endpoint_id)


_deferral = threading.Lock()
_next_deferral = 0.0


def _fan_out_later() -> None:
    """Mid-burst, fan out a second later instead of now: the fan-out serialises on a
    lock and its deliveries would yield to the ingest jobs anyway, so running one per
    ingest batch only held worker threads. One deferred job a second per process is
    enough: it fans out every event committed before it runs (and the sweep backs it)."""
    global _next_deferral
    now = time.monotonic()
    with _deferral:
        if now < _next_deferral:
            return
        _next_deferral = now + YIELD_DELAY_MS / 1000
    send_later("webhook_fan_out", YIELD_DELAY_MS)


def _ingestion_waiting() -> bool:
    """Ingest jobs wait in the broker's queue (never with the inline broker)."""
    queue_size = getattr(current_broker(), "do_qsize", None)
    if queue_size is None:
        return False
    try:
        return int(queue_size(queue_of("ingest_batch"))) > 0
    except Exception:  # the broker's trouble is the ingest jobs' to report
        return False


def _deliver(endpoint_id: str) -> None:
    run = deliver_endpoint(
        get_runtime(), endpoint_id, budget_seconds=RUN_BUDGET_SECONDS, busy=_ingestion_waiting
    )
    if run.yielded:
        send_later("deliver_webhooks", YIELD_DELAY_MS, endpoint_id)
    elif run.more:
        send_later("deliver_webhooks", 0, endpoint_id)
    elif run.next_due is not None:
        wait = (run.next_due - utcnow()).total_seconds()
        send_later("deliver_webhooks", int(wait * 1000) + 50, endpoint_id)


class WebhookSweep(Middleware):
    """Each worker process sweeps every ``[webhooks] sweep_interval_seconds``."""

    def __init__(self) -> None:
        self.stopping = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        interval = get_runtime().settings.webhooks.sweep_interval_seconds
        threading.Thread(
            target=self._run, args=(interval,), daemon=True, name="webhook-sweep"
        ).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self.stopping.set()

    def _run(self, interval: float) -> None:
        while not self.stopping.wait(interval):
            try:
                sweep(get_runtime())
            except Exception as exc:  # the next round tries again
                log.warning("webhook sweep failed", extra={"error": repr(exc)[:200]})
            try:
                send_wanted_rescore(get_runtime())
            except Exception as exc:
                log.warning("rescore check failed", extra={"error": repr(exc)[:200]})
