"""Fan-out and sweep: from committed events to delivery runs.

``fan_out_all`` turns every event not yet fanned out into deliveries (in batches, each
its own transaction). ``sweep`` does that and then sends a delivery job for every
endpoint with a delivery due and no run holding its lease: the retries, the endpoints
of a worker that died, and events whose fan-out job was lost (their commit happened,
the job send did not). `crm worker` and `crm watch` run it periodically.
"""

from __future__ import annotations

from datetime import timedelta

from crm_core import webhooks
from crm_core.db import transaction
from crm_core.models.types import utcnow
from crm_core.webhooks.deliveries import FAN_OUT_BATCH
from worker.runtime import Runtime, enqueue, sending


def fan_out_all(runtime: Runtime) -> list[str]:
    """Fan out every waiting event; the endpoints that were given deliveries."""
    endpoints: set[str] = set()
    while True:
        with transaction(runtime.sessions) as session:
            count, given = webhooks.fan_out(session)
        endpoints.update(given)
        if count < FAN_OUT_BATCH:
            return sorted(endpoints)


def sweep(runtime: Runtime) -> int:
    """Fan out, then start a delivery run for each endpoint with work due; how many.
    Events past ``[webhooks] keep_days`` are deleted on the way."""
    cutoff = utcnow() - timedelta(days=runtime.settings.webhooks.keep_days)
    while True:
        with transaction(runtime.sessions) as session:
            if webhooks.prune_events(session, cutoff) < webhooks.deliveries.PRUNE_CHUNK:
                break
    endpoints = set(fan_out_all(runtime))
    with transaction(runtime.sessions) as session:
        endpoints.update(webhooks.endpoints_due(session))
    with sending():
        for endpoint_id in sorted(endpoints):
            enqueue("deliver_webhooks", endpoint_id)
    return len(endpoints)
