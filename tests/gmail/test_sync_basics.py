"""Full sync, then partial syncs of new mail, label moves and deletes."""

from __future__ import annotations

from crm_core.statuses import IngestOutcome
from tests.gmail.conftest import (
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
from worker.jobs.runtime import Runtime


def test_full_then_partial_fetches_each_message_once(
    runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    first = deliver_customers(gmail_server, range(30))
    spam = gmail_server.deliver(MAILBOX, customer_mail(900), labels=["SPAM"])

    report = sync(runtime)

    assert report.status == "ok" and report.kind == "full"
    assert (report.listed, report.fetched, report.staged) == (31, 31, 31)
    assert set(outcomes(runtime)) == {*first, spam}
    assert outcomes(runtime)[spam] is IngestOutcome.SKIPPED
    assert stored_count(runtime) == 30
    assert mailbox_row(runtime).history_id == gmail_server.history_id(MAILBOX)

    gmail_server.reset_stats()
    second = deliver_customers(gmail_server, range(30, 40))
    report = sync(runtime)

    assert report.kind == "partial"
    assert (report.fetched, report.staged, report.known) == (10, 10, 0)
    stats = gmail_server.stats()
    assert stats.calls(MAILBOX, "messages.get") == 10
    assert stats.calls(MAILBOX, "messages.list") == 0
    assert set(outcomes(runtime)) == {*first, spam, *second}
    assert stored_count(runtime) == 40
    assert mailbox_row(runtime).history_id == gmail_server.history_id(MAILBOX)

    gmail_server.reset_stats()
    report = sync(runtime)
    assert (report.fetched, report.history_records) == (0, 0)
    assert gmail_server.stats().calls(MAILBOX, "messages.get") == 0
