"""What both the senders of jobs and the jobs themselves use: the process's runtime
(settings, sessions, rules), the registry of job names and queues, and ``enqueue``,
which sends a job by name after the current unit of work commits.

Code that sends a job imports this package, never the module that defines the actor,
so the Gmail sync, the importers and the CLI stay below the jobs that call them.
"""

from worker.runtime.outbox import announce_events, enqueue, send_later, sending, unit_of_work
from worker.runtime.registry import JOBS, QUEUES, JobName
from worker.runtime.runtime import Runtime, get_runtime, use_settings

__all__ = [
    "JOBS",
    "QUEUES",
    "JobName",
    "Runtime",
    "announce_events",
    "enqueue",
    "get_runtime",
    "send_later",
    "sending",
    "unit_of_work",
    "use_settings",
]
