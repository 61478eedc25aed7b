"""Running retention: drop raw mail past ``[retention]``, one committed chunk at a time.

Each chunk is its own transaction (``crm_core.inbox.retention`` picks at most a few
hundred rows), so a long first run neither holds locks for long nor loses its work
when stopped; a run is safe to repeat and to run beside ingestion.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from crm_core.inbox.retention import (
    DroppedChunk,
    RetentionCounts,
    drop_processed_raw,
    due_for_retention,
    end_quarantined_raw,
)
from crm_core.models.types import utcnow
from worker.config import RetentionSettings
from worker.runtime import Runtime, unit_of_work


def run_retention(
    runtime: Runtime, settings: RetentionSettings, *, dry_run: bool = False
) -> RetentionCounts:
    """Drop (or with ``dry_run`` only count) the raw mail retention ends now."""
    now = utcnow()
    if dry_run:
        with unit_of_work(runtime.sessions) as session:
            return due_for_retention(session, settings.raw_mail_days, settings.quarantine_days, now)
    processed = _until_done(
        lambda session, after: drop_processed_raw(session, settings.raw_mail_days, now, after),
        runtime,
    )
    quarantined = _until_done(
        lambda session, after: end_quarantined_raw(session, settings.quarantine_days, now, after),
        runtime,
    )
    return RetentionCounts(*processed, *quarantined)


def _until_done(step: Callable[[Session, str], DroppedChunk], runtime: Runtime) -> tuple[int, int]:
    rows = size = 0
    after = ""
    while True:
        with unit_of_work(runtime.sessions) as session:
            chunk = step(session, after)
        if chunk.last_id is None:
            return rows, size
        rows, size, after = rows + chunk.rows, size + chunk.bytes, chunk.last_id
