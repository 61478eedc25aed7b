"""Webhook delivery: address checks, signing, one attempt, an endpoint's run, the sweep.

The events and their bookkeeping are in crm_core.webhooks; the jobs that run this are
in worker/jobs/webhook_actors.py.
"""

from worker.webhooks.delivery import EndpointRun, deliver_endpoint
from worker.webhooks.fan_out import fan_out_all, sweep

__all__ = ["EndpointRun", "deliver_endpoint", "fan_out_all", "sweep"]
