"""Full sync, then partial syncs of new mail, label moves and deletes."""

from __future__ import annotations

from crm_core.db import transaction
from crm_core.mailboxes import advance_history_id
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
from tests.gmail.workers import workers_down
from tests.gmail_fake import FakeGmailServer
from worker.runtime import Runtime


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


def test_label_moves_and_deletes_are_applied(
    runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    kept, to_spam, rescued, deleted = deliver_customers(gmail_server, range(4))
    spam = gmail_server.deliver(MAILBOX, customer_mail(10), labels=["SPAM"])
    gmail_server.modify_labels(MAILBOX, rescued, add=["SPAM"], remove=["INBOX"])
    sync(runtime)
    assert outcomes(runtime)[rescued] is IngestOutcome.SKIPPED
    assert stored_count(runtime) == 3

    gmail_server.modify_labels(MAILBOX, to_spam, add=["SPAM"], remove=["INBOX"])
    gmail_server.modify_labels(MAILBOX, rescued, add=["INBOX"], remove=["SPAM"])
    gmail_server.delete(MAILBOX, deleted)
    added_then_deleted = gmail_server.deliver(MAILBOX, customer_mail(20))
    gmail_server.delete(MAILBOX, added_then_deleted)
    added_then_trashed = gmail_server.deliver(MAILBOX, customer_mail(21))
    gmail_server.modify_labels(MAILBOX, added_then_trashed, add=["TRASH"])
    gmail_server.reset_stats()

    report = sync(runtime)

    rows = ledger(runtime)
    # Stored, then moved to spam: the customer's history stays, the ledger shows where.
    assert rows[to_spam].outcome is IngestOutcome.STORED
    assert "SPAM" in rows[to_spam].label_ids
    # Taken out of spam: classified again, and stored this time.
    assert rows[rescued].outcome is IngestOutcome.STORED
    assert "SPAM" not in rows[rescued].label_ids
    # Deleted in Gmail: still stored, and the ledger says it was deleted.
    assert rows[deleted].outcome is IngestOutcome.STORED
    assert "CRM:DELETED" in rows[deleted].label_ids
    # Added and deleted between two syncs: never fetched (it would be a 404).
    assert added_then_deleted not in rows
    # Added and trashed between two syncs: fetched with its labels, skipped.
    assert (rows[added_then_trashed].outcome, rows[added_then_trashed].reason) == (
        IngestOutcome.SKIPPED,
        "label:trash",
    )
    assert rows[kept].outcome is IngestOutcome.STORED
    assert rows[spam].outcome is IngestOutcome.SKIPPED
    assert stored_count(runtime) == 4
    assert (report.fetched, report.deleted, report.reopened) == (1, 1, 1)
    assert report.labels_updated == 2
    assert gmail_server.stats().calls(MAILBOX, "messages.get") == 1


def test_pending_message_is_classified_with_its_new_labels(
    runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    first, second = deliver_customers(gmail_server, range(2))
    with workers_down(runtime):  # the jobs are lost
        sync(runtime)
    assert set(outcomes(runtime).values()) == {IngestOutcome.PENDING}

    gmail_server.modify_labels(MAILBOX, second, add=["SPAM"], remove=["INBOX"])
    report = sync(runtime)

    rows = ledger(runtime)
    assert "SPAM" in rows[second].label_ids
    assert (rows[second].outcome, rows[second].reason) == (IngestOutcome.SKIPPED, "label:spam")
    # The other pending message is picked up by the next full sync (or a thread replay).
    assert rows[first].outcome is IngestOutcome.PENDING
    assert report.labels_updated == 1

    report = sync(runtime, full=True)
    assert (report.resent, report.fetched) == (1, 0)
    assert outcomes(runtime)[first] is IngestOutcome.STORED


def test_history_id_never_moves_backwards(runtime: Runtime, gmail_server: FakeGmailServer) -> None:
    deliver_customers(gmail_server, range(3))
    sync(runtime)
    current = gmail_server.history_id(MAILBOX)
    ahead = current + 1_000
    with transaction(runtime.sessions) as session:
        assert advance_history_id(session, MAILBOX, ahead)
        assert not advance_history_id(session, MAILBOX, current)
        assert not advance_history_id(session, MAILBOX, ahead)

    report = sync(runtime, full=True)  # Gmail's id is older than the stored one

    assert report.status == "ok"
    assert mailbox_row(runtime).history_id == ahead
