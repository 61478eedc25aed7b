"""rescore_leads(): rebuild the lead-scoring model from the history and rescore every lead.

Sent (after commit) whenever an outcome changes: a quote sent, accepted or rejected,
a booking made, completed or cancelled, a lead's status set by hand. Each sender bumps
the requested generation in its own transaction (crm_core.scoring.request_rescore);
the job rebuilds only when the stored model is older than the newest request, so a
burst of outcomes costs one or two rebuilds, and running the job again changes nothing.
"""

from __future__ import annotations

import logging
import time

from crm_core.scoring import rescore_if_requested
from worker.jobs.broker import job
from worker.jobs.transient import is_transient, quick_retries
from worker.runtime import get_runtime, unit_of_work

log = logging.getLogger("worker.jobs")


def _retry_transient(retries: int, exc: BaseException) -> bool:
    return is_transient(exc) and retries < get_runtime().settings.worker.max_retries


@job("rescore_leads", retry_when=_retry_transient)
def rescore_leads() -> None:
    started = time.perf_counter()
    for attempt in quick_retries():
        with attempt, unit_of_work(get_runtime().sessions) as session:
            summary = rescore_if_requested(session)
    if summary is None:
        log.info("lead scores already up to date")
        return
    log.info(
        "lead scores rebuilt",
        extra={
            "trained_on": summary.trained_on,
            "scored": summary.scored,
            "changed": summary.changed,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
