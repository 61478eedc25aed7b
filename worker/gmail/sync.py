"""One sync of one mailbox: full when asked or when there is no usable cursor, else
partial. See full_sync.py and partial_sync.py for what each does and costs."""

from __future__ import annotations

from worker.gmail.full_sync import full_sync
from worker.gmail.partial_sync import partial_sync
from worker.gmail.report import SyncReport
from worker.gmail.session import SyncOptions
from worker.runtime import Runtime


def sync_mailbox(
    runtime: Runtime, address: str, *, full: bool = False, options: SyncOptions | None = None
) -> SyncReport:
    """Sync ``address``; returns at once when another sync of it is running."""
    if full:
        return full_sync(runtime, address, options)
    return partial_sync(runtime, address, options)
