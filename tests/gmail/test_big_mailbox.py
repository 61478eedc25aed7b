"""About 2,000 messages under faults: 10 % of Gmail calls fail with 5xx, the quota is
tight, and the history id expires in the middle of a partial sync. Every message is
fetched once, staged once, stored once, and the audit is clean. PostgreSQL only: the
ingest jobs run on four threads beside the sync, as workers would."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from crm_core.models import EmailMessage, ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from tests.gmail.conftest import FAST, MAILBOX, Account, gmail_settings, outcomes, sync
from tests.gmail.mailbox_data import deliver_generated, generated
from tests.gmail.workers import IngestWorkers
from tests.gmail_fake import FakeGmailServer
from worker.gmail import partial_sync as partial_module
from worker.gmail.audit import audit_mailbox
from worker.gmail.history import HistoryPage
from worker.gmail.session import SyncContext
from worker.jobs.broker import install_broker
from worker.runtime import Runtime, use_settings

TOTAL = 2000
FIRST = 1200
QUOTA = 1500  # units per second at the fake; the client is allowed a little more


@pytest.fixture
def database(pg_database: Database) -> Database:
    return pg_database


@pytest.fixture
def runtime(database: Database, gmail_server: FakeGmailServer, account: Account) -> Runtime:
    settings = gmail_settings(
        database,
        gmail_server,
        account.token_file.parent,
        quota_units_per_second=QUOTA * 1.25,
        list_page_size=100,
    )
    runtime = use_settings(settings)
    install_broker(settings)
    return runtime


def test_two_thousand_messages_under_faults(
    runtime: Runtime,
    gmail_server: FakeGmailServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages = generated(TOTAL)
    first = deliver_generated(gmail_server, messages[:FIRST])
    gmail_server.set_fault_rate(0.10, statuses=(500, 502, 503), seed=7)
    # A small burst: a batch of 50 (250 units) has parts refused with 429.
    gmail_server.set_quota(QUOTA, burst=100)

    started = time.monotonic()
    with IngestWorkers(runtime) as workers:
        report = sync(runtime, options=FAST)
        assert report.status == "ok" and report.kind == "full"
        assert (report.fetched, report.staged) == (FIRST, FIRST)

        second = deliver_generated(gmail_server, messages[FIRST:])
        # The history expires while the partial sync is between two of its pages.
        apply_page = partial_module.apply_page

        def expire_after_first_page(ctx: SyncContext, page: HistoryPage) -> None:
            apply_page(ctx, page)
            gmail_server.expire_history_before(MAILBOX, gmail_server.history_id(MAILBOX))

        monkeypatch.setattr(partial_module, "apply_page", expire_after_first_page)
        report = sync(runtime, options=FAST)
        monkeypatch.setattr(partial_module, "apply_page", apply_page)

        assert report.status == "ok" and report.history_expired and report.kind == "full"
        assert report.fetched == TOTAL - FIRST
        synced = time.monotonic() - started
        workers.join()
    print(f"synced in {synced:.1f}s, ingested in {time.monotonic() - started:.1f}s")

    stats = gmail_server.stats().users[MAILBOX]
    assert stats.faults > 100 and stats.throttled > 0  # the faults did happen
    every = {*first, *second}
    assert set(outcomes(runtime)) == every
    fetched = gmail_server.served_messages()
    assert set(fetched) == every and max(fetched.values()) == 1  # each fetched once
    with runtime.sessions() as session:
        per_message = session.execute(
            select(EmailMessage.gmail_message_id, func.count()).group_by(
                EmailMessage.gmail_message_id
            )
        ).all()
        stored = session.execute(
            select(func.count())
            .select_from(ReceivedMessage)
            .where(ReceivedMessage.outcome == IngestOutcome.STORED)
        ).scalar_one()
    assert all(n == 1 for _, n in per_message)
    assert len(per_message) >= stored > TOTAL // 2

    result = audit_mailbox(runtime, MAILBOX, options=FAST)
    assert result.clean and result.listed == TOTAL, result.as_dict()
