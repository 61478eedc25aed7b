"""Send ``rescore_leads`` when an outcome asked for a rebuild that no job has made.

Quote, booking and lead-status services record a request in their own transaction
(crm_core.scoring.request_rescore); the command that changed the outcome then sends
the job. Should that send fail (the broker away) or come from code that sends no
job (the Python API, an erasure), the request stands: `crm worker` and `crm watch`
check for it on their periodic sweep and send the job, which rebuilds once however
many requests are waiting.
"""

from __future__ import annotations

from crm_core.db import transaction
from crm_core.scoring import rescore_wanted
from worker.runtime import Runtime, enqueue, sending


def send_wanted_rescore(runtime: Runtime) -> bool:
    """Send the rescore job when a request waits; whether it was sent."""
    with transaction(runtime.sessions) as session:
        wanted = rescore_wanted(session)
    if wanted:
        with sending():
            enqueue("rescore_leads")
    return wanted
