"""The sync_mailbox job: bound with the others, permanent failures recorded, not retried."""

from __future__ import annotations

import dramatiq
import pytest

from tests.gmail.conftest import FAST, MAILBOX, Account, deliver_customers, mailbox_row, outcomes
from tests.gmail_fake import FakeGmailServer
from worker.gmail import session as gmail_session
from worker.gmail.errors import GmailUnavailableError
from worker.jobs import sync_actors
from worker.runtime import Runtime


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gmail_session, "DEFAULT_OPTIONS", FAST)


def test_the_job_is_declared_on_the_sync_queue(runtime: Runtime) -> None:
    actor = sync_actors.sync_mailbox
    assert (actor.actor_name, actor.queue_name) == ("sync_mailbox", "sync")
    assert dramatiq.get_broker().get_actor("sync_mailbox") is actor


def test_the_job_syncs(runtime: Runtime, gmail_server: FakeGmailServer) -> None:
    ids = deliver_customers(gmail_server, range(4))
    sync_actors.sync_mailbox.send(MAILBOX)
    assert set(outcomes(runtime)) == set(ids)
    sync_actors.sync_mailbox.send(MAILBOX, True)
    assert mailbox_row(runtime).last_full_sync_at is not None


def test_permanent_failure_is_recorded_not_raised(runtime: Runtime, account: Account) -> None:
    account.token_file.write_text("{}")
    sync_actors.sync_mailbox.send(MAILBOX)  # inline: would raise if it were retried
    assert "is not an authorized-user" in (mailbox_row(runtime).last_error or "")


def test_transient_failure_is_raised_for_a_retry(
    runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    gmail_server.queue_fault("getProfile", 503, count=FAST.retry.attempts)
    with pytest.raises(GmailUnavailableError):
        sync_actors.sync_mailbox.send(MAILBOX)
    assert sync_actors.is_transient_sync_error(GmailUnavailableError("x"))
    assert "HTTP 503" in (mailbox_row(runtime).last_error or "")
