"""``crm watch``: keeps every configured mailbox in sync until SIGTERM.

- poll mode: a sync job every ``gmail.poll_interval_seconds``;
- push mode: the Pub/Sub push endpoint enqueues a sync per notification; a backstop
  sync runs every ``gmail.backstop_interval_seconds`` anyway, and ``users.watch`` is
  renewed on start and every ``gmail.watch_renew_hours`` (a watch lapses after 7 days);
- every mailbox gets a sync at start, which catches up on whatever arrived while the
  watcher was down (the sync starts from the stored history id);
- pending messages whose jobs were lost are re-sent every few minutes, and at once when
  the broker answers again after it could not be reached (jobs sent meanwhile were
  lost: the staging committed, the sending failed);
- every ``[webhooks] sweep_interval_seconds`` webhook events are fanned out and due
  deliveries (retries, those of a worker that died) started (``worker.webhooks.sweep``);
- once a day (the first time a few minutes after start) raw mail past ``[retention]``
  is dropped (``worker.jobs.retention``); a failure is logged and tried the next day;
- /healthz and /readyz are served on the push port even without push mailboxes.

The syncs themselves are Dramatiq jobs (``sync_mailbox``): with a Redis broker the
workers run them; with the inline broker this process does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from crm_core.normalize import mailbox_key
from worker.config import ConfigError, Settings
from worker.http import Readiness
from worker.watch.push_server import PushServer
from worker.watch.schedule import Schedule

log = logging.getLogger("worker.watch")

TICK_SECONDS = 1.0
RESUME_EVERY_SECONDS = 300.0
# While the broker cannot be reached: how often to try the resume that follows an outage.
RETRY_AFTER_FAILURE_SECONDS = 5.0
RETENTION_EVERY_SECONDS = 24 * 3600.0


class Watcher:
    def __init__(
        self,
        settings: Settings,
        *,
        enqueue_sync: Callable[[str], None],
        renew_watch: Callable[[str], None],
        resume_pending: Callable[[float], int],
        readiness: Readiness,
        metrics: Callable[[], bytes] | None = None,
        run_retention: Callable[[], object] | None = None,
        sweep_webhooks: Callable[[], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not settings.mailboxes:
            raise ConfigError("no mailboxes configured: add [[mailboxes]] to the config file")
        gmail = settings.gmail
        self.schedule = Schedule.for_mailboxes(
            settings.mailboxes,
            poll_seconds=gmail.poll_interval_seconds,
            backstop_seconds=gmail.backstop_interval_seconds,
            renew_hours=gmail.watch_renew_hours,
        )
        self.push_mailboxes = self.schedule.push_mailboxes()  # fixed for the daemon's life
        if self.push_mailboxes and not gmail.topic_name:
            raise ConfigError("gmail.topic_name: required for mailboxes in push mode")
        self.enqueue_sync = enqueue_sync
        self.renew_watch = renew_watch
        self.resume_pending = resume_pending
        self.run_retention = run_retention
        self.sweep_webhooks = sweep_webhooks
        self.sweep_every = settings.webhooks.sweep_interval_seconds
        self._next_sweep = clock()
        self.clock = clock
        self.stopping = threading.Event()
        self.server = PushServer(
            settings.push,
            self._on_notification,
            readiness,
            accept_push=bool(self.push_mailboxes),
            metrics=metrics,
            limits=settings.http,
        )
        self._next_resume = clock() + RESUME_EVERY_SECONDS
        # Not at once: a restart loop must not turn into a retention loop.
        self._next_retention = clock() + RESUME_EVERY_SECONDS
        self._broker_failed = False  # a send failed: resume everything once it works again

    def _on_notification(self, address: str) -> None:
        mailbox = mailbox_key(address)
        if mailbox not in self.push_mailboxes:
            raise LookupError(mailbox)  # acknowledged: retrying cannot make it known
        self.enqueue_sync(mailbox)

    def tick(self) -> None:
        """One round: whatever is due now. Errors are logged; the next round retries."""
        now = self.clock()
        for mailbox in self.schedule.mailboxes:
            if self.stopping.is_set():
                return
            if mailbox.renewal_due(now):
                try:
                    self.renew_watch(mailbox.address)
                    mailbox.renewed(now, ok=True)
                except Exception:
                    log.exception("watch renewal failed", extra={"mailbox": mailbox.address})
                    mailbox.renewed(now, ok=False)
            if mailbox.sync_due(now):
                try:
                    self.enqueue_sync(mailbox.address)
                    mailbox.synced(now)
                except Exception:
                    self._broker_failed = True
                    log.exception("could not enqueue a sync", extra={"mailbox": mailbox.address})
        if now >= self._next_resume:
            # After an outage every pending message may have lost its job; otherwise
            # only those pending for long (younger ones have their jobs queued).
            older_than = 0 if self._broker_failed else RESUME_EVERY_SECONDS
            try:
                sent = self.resume_pending(older_than)
            except Exception:
                if not self._broker_failed:  # one traceback per outage, not one per try
                    log.exception("could not resume pending messages")
                self._broker_failed = True
            else:
                if self._broker_failed:
                    log.info("broker back: pending messages resent", extra={"sent": sent})
                self._broker_failed = False
            self._next_resume = now + RESUME_EVERY_SECONDS
        if self._broker_failed:
            self._next_resume = min(self._next_resume, now + RETRY_AFTER_FAILURE_SECONDS)
        if self.sweep_webhooks is not None and now >= self._next_sweep:
            self._next_sweep = now + self.sweep_every
            try:
                self.sweep_webhooks()
            except Exception:
                log.exception("webhook sweep failed; tried again next round")
        if self.run_retention is not None and now >= self._next_retention:
            self._next_retention = now + RETENTION_EVERY_SECONDS
            try:
                log.info("retention done", extra={"dropped": repr(self.run_retention())})
            except Exception:
                log.exception("retention failed; tried again in a day")

    def run(self) -> None:
        """Serve and tick until ``stop()`` (the CLI calls it on SIGTERM and SIGINT)."""
        self.server.start()
        log.info("watching", extra={"mailboxes": [m.address for m in self.schedule.mailboxes]})
        try:
            while not self.stopping.is_set():
                self.tick()
                self.stopping.wait(TICK_SECONDS)
        finally:
            self.server.stop()
            log.info("watcher stopped")

    def stop(self) -> None:
        self.stopping.set()
