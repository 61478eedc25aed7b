"""Every job: its name, its queue and the module that defines its actor.

The one place to register a job. ``install_broker`` imports the modules named here
and binds their actors to the configured broker (and fails if one is missing);
``crm worker`` listens on ``QUEUES``; ``enqueue`` finds a job's queue here, so a sender
never imports the actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

JobName = Literal[
    "ingest_message",
    "ingest_batch",
    "ingest_gave_up",
    "update_customer_stats",
    "replay_thread",
    "sync_mailbox",
    "send_reply",
    "rescore_leads",
    "webhook_fan_out",
    "deliver_webhooks",
]


@dataclass(frozen=True, slots=True)
class Job:
    name: JobName
    queue: str
    module: str  # where the actor is defined (imported by install_broker)


_ACTORS = "worker.jobs.actors"
_SYNC_ACTORS = "worker.jobs.sync_actors"
_SEND_ACTORS = "worker.jobs.send_actors"
_SCORING_ACTORS = "worker.jobs.scoring_actors"
_WEBHOOK_ACTORS = "worker.jobs.webhook_actors"

JOBS: dict[str, Job] = {
    job.name: job
    for job in [
        Job("ingest_message", "ingest", _ACTORS),
        Job("ingest_batch", "ingest", _ACTORS),
        Job("ingest_gave_up", "ingest", _ACTORS),
        Job("replay_thread", "ingest", _ACTORS),
        Job("update_customer_stats", "stats", _ACTORS),
        Job("sync_mailbox", "sync", _SYNC_ACTORS),
        Job("send_reply", "send", _SEND_ACTORS),
        Job("rescore_leads", "stats", _SCORING_ACTORS),
        Job("webhook_fan_out", "webhooks", _WEBHOOK_ACTORS),
        Job("deliver_webhooks", "webhooks", _WEBHOOK_ACTORS),
    ]
}

# The queues `crm worker` consumes, in the order it lists them.
QUEUES: tuple[str, ...] = tuple(dict.fromkeys(job.queue for job in JOBS.values()))

assert set(JOBS) == set(get_args(JobName)), "every job name is registered once"


def queue_of(name: str) -> str:
    try:
        return JOBS[name].queue
    except KeyError:
        raise LookupError(f"no job named {name!r} in worker.runtime.registry") from None
