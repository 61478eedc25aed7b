"""``crm watch``: the watcher daemon (poll and push)."""

from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

import typer

from worker.cli.config_check import preflight
from worker.cli.context import settings_of
from worker.cli.jobs import is_inline, runtime_for
from worker.jobs.rescore_sweep import send_wanted_rescore
from worker.jobs.resume import resend_pending, resend_replies
from worker.jobs.retention import run_retention
from worker.observability.logs import configure_logging
from worker.observability.metrics import render
from worker.observability.readiness import readiness_checks
from worker.runtime import Runtime, enqueue, sending
from worker.runtime.outbox import current_broker
from worker.watch.daemon import Watcher
from worker.watch.gmail_watch import renew_watch
from worker.webhooks import sweep

log = logging.getLogger("worker.watch")


class InlineSyncs:
    """With the inline broker the watcher runs syncs itself, one at a time, off the
    request thread (a push must be answered quickly); a sync already waiting for a
    mailbox absorbs further requests for it."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync")
        self._waiting: set[str] = set()
        self._lock = threading.Lock()

    def enqueue(self, address: str) -> None:
        with self._lock:
            if address in self._waiting:
                return
            self._waiting.add(address)
        self._pool.submit(self._run, address)

    def _run(self, address: str) -> None:
        with self._lock:
            self._waiting.discard(address)
        try:
            with sending():  # the inline broker runs the job here, in this thread
                enqueue("sync_mailbox", address)
        except Exception:
            log.exception("sync failed", extra={"mailbox": address})

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class BackgroundSweep:
    """The webhook sweep (and the check for a lead rescore asked for and not sent) off
    the watcher's loop: with the inline broker it delivers, which may wait on slow
    receivers. A sweep still running absorbs the next."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhooks")
        self._busy = threading.Lock()

    def __call__(self) -> None:
        if self._busy.acquire(blocking=False):
            self._pool.submit(self._run)

    def _run(self) -> None:
        try:
            for task, what in ((sweep, "webhook sweep"), (send_wanted_rescore, "rescore check")):
                try:
                    task(self.runtime)
                except Exception:
                    log.exception(f"{what} failed")
        finally:
            self._busy.release()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def watch(ctx: typer.Context) -> None:
    """Keep the configured mailboxes in sync until SIGTERM (poll or push mode)."""
    settings = settings_of(ctx)
    preflight(settings)
    configure_logging(settings.logging.format, settings.logging.level)
    runtime = runtime_for(ctx)
    inline = InlineSyncs() if is_inline(ctx) else None
    webhook_sweep = BackgroundSweep(runtime)

    def enqueue_sync(address: str) -> None:
        if inline is not None:
            inline.enqueue(address)
        else:
            with sending():
                enqueue("sync_mailbox", address)

    def renew(address: str) -> None:
        expires = renew_watch(runtime, address)
        log.info("watch renewed", extra={"mailbox": address, "expires": expires.isoformat()})

    watcher = Watcher(
        settings,
        enqueue_sync=enqueue_sync,
        renew_watch=renew,
        resume_pending=lambda older_than: (
            resend_pending(runtime, older_than_seconds=older_than)
            + resend_replies(runtime, older_than_seconds=older_than)
        ),
        readiness=lambda: readiness_checks(runtime.sessions, current_broker()),
        metrics=lambda: render(runtime.sessions),
        run_retention=lambda: run_retention(runtime, settings.retention),
        sweep_webhooks=webhook_sweep,
    )

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on signal %s", signal.Signals(signum).name)
        watcher.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        watcher.run()
    finally:
        webhook_sweep.shutdown()
        if inline is not None:
            inline.shutdown()
