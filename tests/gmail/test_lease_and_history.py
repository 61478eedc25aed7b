"""One sync per mailbox at a time; an expired history id costs one full sync."""

from __future__ import annotations

import threading
from datetime import timedelta

from crm_core.db import transaction
from crm_core.mailboxes import (
    acquire_lease,
    get_mailbox,
    get_or_create_mailbox,
    release_lease,
)
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome
from tests.gmail.conftest import (
    FAST,
    MAILBOX,
    customer_mail,
    deliver_customers,
    ledger,
    mailbox_row,
    outcomes,
    stored_count,
    sync,
)
from tests.gmail_fake import FakeGmailServer
from tests.processes import wait_for
from worker.gmail.report import SyncReport
from worker.runtime import Runtime


def lease_owner(runtime: Runtime) -> str | None:
    with transaction(runtime.sessions) as session:
        row = get_mailbox(session, MAILBOX)
        return row.lease_owner if row else None


def test_second_sync_returns_while_one_runs(
    runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    ids = deliver_customers(gmail_server, range(20))
    gmail_server.queue_fault("messages.list", None, delay=1.5)  # the first sync lingers
    reports: list[SyncReport] = []
    first = threading.Thread(target=lambda: reports.append(sync(runtime)))
    first.start()
    wait_for(lambda: lease_owner(runtime) is not None, 10, 0.02, "the lease")

    second = sync(runtime)
    first.join(30)

    assert second.status == "already_running" and second.total_units == 0
    assert reports[0].status == "ok" and reports[0].staged == 20
    assert set(ledger(runtime)) == set(ids)
    assert gmail_server.stats().calls(MAILBOX, "getProfile") == 1
    assert mailbox_row(runtime).lease_owner is None  # released at the end


def test_lease_is_conditional_and_expires(runtime: Runtime) -> None:
    now = utcnow()
    minute = timedelta(minutes=1)
    with transaction(runtime.sessions) as session:
        get_or_create_mailbox(session, MAILBOX)
        assert acquire_lease(session, MAILBOX, "a", minute, now=now)
        assert not acquire_lease(session, MAILBOX, "b", minute, now=now)
        assert acquire_lease(session, MAILBOX, "a", minute, now=now)  # renewing is fine
        assert acquire_lease(session, MAILBOX, "b", minute, now=now + 2 * minute)  # expired
        assert not release_lease(session, MAILBOX, "a")
        assert release_lease(session, MAILBOX, "b")


def test_crashed_holder_blocks_until_its_lease_expires(
    runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    deliver_customers(gmail_server, range(2))
    with transaction(runtime.sessions) as session:
        get_or_create_mailbox(session, MAILBOX)
        acquire_lease(session, MAILBOX, "crashed", timedelta(seconds=1))
    assert sync(runtime).status == "already_running"
    wait_for(lambda: sync(runtime).status == "ok", 10, 0.2, "the crashed lease to expire")
    assert stored_count(runtime) == 2


def test_expired_history_id_runs_exactly_one_full_sync(
    runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    before = deliver_customers(gmail_server, range(30))
    sync(runtime)
    after = deliver_customers(gmail_server, range(30, 45))
    gmail_server.expire_history_before(MAILBOX, gmail_server.history_id(MAILBOX))
    gmail_server.reset_stats()

    report = sync(runtime, options=FAST)

    stats = gmail_server.stats()
    assert report.status == "ok" and report.history_expired and report.kind == "full"
    assert stats.calls(MAILBOX, "history.list") == 1  # the 404
    assert stats.calls(MAILBOX, "getProfile") == 1
    assert stats.calls(MAILBOX, "messages.list") == 1
    assert stats.calls(MAILBOX, "messages.get") == 15  # only what the ledger lacked
    assert (report.known, report.fetched) == (30, 15)
    assert set(ledger(runtime)) == {*before, *after}
    assert stored_count(runtime) == 45
    assert mailbox_row(runtime).history_id == gmail_server.history_id(MAILBOX)

    gmail_server.reset_stats()
    assert sync(runtime).kind == "partial"  # the cursor is usable again
    assert gmail_server.stats().calls(MAILBOX, "getProfile") == 0


def test_a_message_rescued_from_spam_while_history_was_expired_is_filed(
    runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    kept = deliver_customers(gmail_server, range(5))
    rescued = gmail_server.deliver(MAILBOX, customer_mail(800), labels=["SPAM"])
    binned = gmail_server.deliver(MAILBOX, customer_mail(801), labels=["TRASH"])
    spam = gmail_server.deliver(MAILBOX, customer_mail(802), labels=["SPAM"])
    sync(runtime)
    assert {outcomes(runtime)[i] for i in (rescued, binned, spam)} == {IngestOutcome.SKIPPED}

    # While the history was expired: one message out of spam, one from trash to spam.
    gmail_server.modify_labels(MAILBOX, rescued, add=["INBOX"], remove=["SPAM"])
    gmail_server.modify_labels(MAILBOX, binned, add=["SPAM"], remove=["TRASH"])
    gmail_server.expire_history_before(MAILBOX, gmail_server.history_id(MAILBOX))
    gmail_server.reset_stats()

    report = sync(runtime, options=FAST)

    assert report.history_expired and report.kind == "full"
    assert outcomes(runtime)[rescued] is IngestOutcome.STORED
    assert outcomes(runtime)[binned] is IngestOutcome.SKIPPED
    assert outcomes(runtime)[spam] is IngestOutcome.SKIPPED
    rows = ledger(runtime)
    assert "SPAM" not in rows[rescued].label_ids
    assert "SPAM" in rows[binned].label_ids and "TRASH" not in rows[binned].label_ids
    assert stored_count(runtime) == len(kept) + 1
    assert (report.reopened, report.labels_updated) == (1, 2)
    stats = gmail_server.stats()
    assert stats.calls(MAILBOX, "messages.get") == 0  # nothing fetched again
    # The full listing plus one page per skip label (SPAM, TRASH, DRAFT, CHAT).
    assert stats.calls(MAILBOX, "messages.list") == 1 + 4
