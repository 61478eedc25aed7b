"""The one way into ingestion, whatever the source: Gmail, an export, a retry, a replay.

``stage_and_send`` stages raw messages in the ledger and sends their ingest jobs after
the caller's commit; ``send_staged`` sends jobs for messages already staged. Nothing
else sends ingest jobs (a test holds every other module to it).
"""

from worker.intake.handoff import Handoff, send_staged, stage_and_send
from worker.intake.packing import JOB_BYTES, JOB_SIZE, bounded_chunks, pack_jobs

__all__ = [
    "JOB_BYTES",
    "JOB_SIZE",
    "Handoff",
    "bounded_chunks",
    "pack_jobs",
    "send_staged",
    "stage_and_send",
]
