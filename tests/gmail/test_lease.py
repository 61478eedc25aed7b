"""The lease is renewed while a sync works and the sync stops when it loses it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_core.db import transaction
from crm_core.mailboxes import acquire_lease
from crm_core.models.types import utcnow
from tests.gmail.conftest import MAILBOX, deliver_customers, mailbox_row, sync
from tests.gmail_fake import FakeGmailServer
from worker.gmail import lease as lease_module
from worker.gmail.errors import LeaseLostError
from worker.gmail.lease import Lease, is_dead_local_owner, new_owner
from worker.gmail.session import SyncOptions
from worker.runtime import Runtime

EVERY_CALL = timedelta(0)


def test_keep_alive_renews_and_notices_a_takeover(runtime: Runtime) -> None:
    lease = Lease(runtime.sessions, MAILBOX, ttl=timedelta(minutes=1), renew_every=EVERY_CALL)
    assert lease.acquire()
    first_until = mailbox_row(runtime).lease_until
    lease.keep_alive()
    renewed_until = mailbox_row(runtime).lease_until
    assert first_until is not None and renewed_until is not None
    assert renewed_until >= first_until

    later = utcnow() + timedelta(minutes=5)  # our lease has expired by then
    with transaction(runtime.sessions) as session:
        assert acquire_lease(session, MAILBOX, "other", timedelta(minutes=1), now=later)
    with pytest.raises(LeaseLostError):
        lease.keep_alive()
    lease.release()  # not ours any more: left alone
    assert mailbox_row(runtime).lease_owner == "other"


def test_sync_that_loses_its_lease_stops(
    runtime: Runtime, gmail_server: FakeGmailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver_customers(gmail_server, range(5))
    monkeypatch.setattr(lease_module, "renew_lease", lambda *args, **kwargs: False)
    options = SyncOptions(lease_renew_every=EVERY_CALL)

    report = sync(runtime, options=options)

    assert report.status == "lease_lost" and report.ok
    assert mailbox_row(runtime).history_id is None


def test_dead_owner_detection() -> None:
    assert not is_dead_local_owner(new_owner())  # this process
    assert not is_dead_local_owner("elsewhere:1:2:x")
    assert not is_dead_local_owner(None)
    host = new_owner().split(":")[0]
    assert is_dead_local_owner(f"{host}:999999999:1:x")
