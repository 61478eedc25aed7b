"""The Gmail sync job: ``sync_mailbox(address, full=False)`` on the "sync" queue.

One sync per mailbox runs at a time (a lease on the Mailbox row): a job that finds
another sync running returns at once, so sending it twice is harmless. Transient
failures (Gmail unavailable after its own retries, the database or broker away) are
retried by Dramatiq with backoff; the cursor has not moved, so the retry redoes only
what is missing. Permanent failures (bad credentials file, a refused request) are
recorded in ``mailbox.last_error`` and not retried; an expired or revoked grant sets
the mailbox to needs_reauth and stops its syncs until ``crm gmail auth``.
"""

from __future__ import annotations

import logging

from worker.gmail.errors import GmailUnavailableError, is_retryable
from worker.gmail.sync import sync_mailbox as run_sync
from worker.jobs.broker import job
from worker.jobs.transient import is_transient
from worker.runtime import get_runtime

log = logging.getLogger("worker.jobs")

# A first full sync of a large mailbox takes a while: 100,000 messages at 250 quota
# units per second is over half an hour. The lease, not this limit, guards overlap.
SYNC_TIME_LIMIT_MS = 6 * 3600 * 1000


def is_transient_sync_error(exc: BaseException) -> bool:
    """Gmail or the database away: worth running again. (A lost lease never gets here:
    run_guarded reports it as a result.)"""
    return isinstance(exc, GmailUnavailableError) or is_transient(exc) or is_retryable(exc)


def _retry_transient(retries: int, exc: BaseException) -> bool:
    return is_transient_sync_error(exc) and retries < get_runtime().settings.worker.max_retries


@job("sync_mailbox", retry_when=_retry_transient, time_limit=SYNC_TIME_LIMIT_MS)
def sync_mailbox(address: str, full: bool = False) -> None:
    try:
        report = run_sync(get_runtime(), address, full=full)
    except Exception as exc:
        if is_transient_sync_error(exc):
            raise
        # Permanent: already in mailbox.last_error; retrying would fail the same way.
        log.warning("sync failed", extra={"mailbox": address, "error": type(exc).__name__})
        return
    log.info(
        "sync finished",
        extra={
            "mailbox": report.mailbox,
            "status": report.status,
            "kind": report.kind,
            "fetched": report.fetched,
            "staged": report.staged,
            "units": report.total_units,
            "seconds": report.seconds,
        },
    )
