"""Recovery in seconds: a starting worker sends again the jobs of pending messages.

A worker killed mid-job leaves its messages pending and its jobs unacknowledged in
Redis; Dramatiq gives such jobs back only after the dead worker's heartbeat times out
and some worker happens to run its maintenance, minutes later. The ledger knows what
is pending, so the first worker process to boot re-sends those jobs at once: one
process per start of `crm worker` (its processes share the parent that forked them,
whose pid and host name the lock in Redis is named after, so the next start, after a
kill say, resumes again). Ingestion is idempotent, so a job that was not lost after
all only costs a look at rows already filed.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from worker.jobs.resume import resend_pending
from worker.runtime import get_runtime

log = logging.getLogger("worker.jobs")

LOCK_MS = 60_000  # the processes of one `crm worker` boot within this of each other


class ResumeOnStart(Middleware):
    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        runtime = get_runtime()
        if not runtime.settings.worker.resume_on_start:
            return
        client = getattr(broker, "client", None)
        start = f"{socket.gethostname()}:{os.getppid()}"  # this start of `crm worker`
        lock = f"{runtime.settings.broker.namespace}:resume-on-start:{start}"
        try:
            if client is not None and not client.set(lock, os.getpid(), nx=True, px=LOCK_MS):
                return  # another process of this start does it
            sent = resend_pending(runtime, older_than_seconds=0)
        except Exception as exc:  # the watcher's resume and `crm ingest resume` remain
            log.warning("could not resume pending messages", extra={"error": repr(exc)[:200]})
            return
        if sent:
            log.info("resumed pending messages", extra={"sent": sent})
