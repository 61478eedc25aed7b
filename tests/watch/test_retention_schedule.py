"""The watcher runs retention once a day; a failed run is logged and never stops it."""

from __future__ import annotations

import logging

import pytest

from worker.config import MailboxConfig, Settings
from worker.watch.daemon import RESUME_EVERY_SECONDS, RETENTION_EVERY_SECONDS, Watcher


def test_retention_runs_daily_and_a_failure_is_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    runs: list[float] = []

    def retention() -> object:
        runs.append(now[0])
        if len(runs) == 1:
            raise RuntimeError("database down")
        return "ok"

    watcher = Watcher(
        Settings(mailboxes=[MailboxConfig(address="info@rendetalje.dk")]),
        enqueue_sync=lambda mailbox: None,
        renew_watch=lambda mailbox: None,
        resume_pending=lambda older_than: 0,
        readiness=lambda: [],
        run_retention=retention,
        clock=lambda: now[0],
    )
    watcher.tick()
    assert runs == []  # not at start: a restart loop is no retention loop
    now[0] = RESUME_EVERY_SECONDS
    with caplog.at_level(logging.ERROR, logger="worker.watch"):
        watcher.tick()
    assert runs == [RESUME_EVERY_SECONDS]
    assert "retention failed" in caplog.text
    for moment in (RESUME_EVERY_SECONDS * 2, RETENTION_EVERY_SECONDS):
        now[0] = moment
        watcher.tick()
    assert len(runs) == 1
    now[0] = RESUME_EVERY_SECONDS + RETENTION_EVERY_SECONDS
    watcher.tick()
    assert len(runs) == 2
