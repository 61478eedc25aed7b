"""Quota pacing, retries of calls and of batch parts, and the units a sync spends."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.gmail.conftest import FAST, MAILBOX, deliver_customers, ledger, sync
from tests.gmail.workers import workers_down
from tests.gmail_fake import FakeGmailServer
from worker.gmail.batch_sizer import BatchSizer
from worker.gmail.calls import GmailClient, RetryPolicy
from worker.gmail.errors import GmailRefusedError, GmailUnavailableError
from worker.gmail.fetch import fetch_raw
from worker.gmail.history import HistoryPage
from worker.gmail.quota import TokenBucket, cost_of
from worker.gmail.service import build_gmail_service, discovery_document
from worker.runtime import Runtime

QUICK = RetryPolicy(attempts=5, initial=0.01, maximum=0.05, jitter=0.01)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_paces_and_lets_a_large_spend_go_into_debt() -> None:
    clock = Clock()
    bucket = TokenBucket(100, clock=lambda: clock.now, sleep=clock.sleep)
    bucket.spend(100)  # a full bucket
    assert clock.slept == []
    bucket.spend(50)  # half a second to refill
    assert clock.slept == [pytest.approx(0.5)]
    bucket.spend(250)  # more than it holds: waits for a full bucket, then owes 150
    bucket.spend(1)
    assert sum(clock.slept) == pytest.approx(0.5 + 1.0 + 1.51)
    bucket.drain()
    assert bucket.calls_per_fill(cost_of("messages.get")) == 20


def wide() -> BatchSizer:
    """Fifty messages a batch from the start, whatever their size."""
    return BatchSizer(50, 1 << 30, first=50)


def test_costs_and_batch_quota_are_spent_before_sending(gmail_server: FakeGmailServer) -> None:
    assert [cost_of(m) for m in ("messages.get", "messages.list", "history.list")] == [5, 5, 2]
    assert [cost_of(m) for m in ("threads.get", "getProfile", "watch", "stop")] == [10, 1, 100, 1]
    refresh = gmail_server.add_user(MAILBOX)
    ids = deliver_customers(gmail_server, range(7))
    spent: list[float] = []

    class Recording(TokenBucket):
        def spend(self, units: float) -> None:
            spent.append(units)
            assert gmail_server.stats().batch_requests == 0  # before the batch leaves
            super().spend(units)

    client = GmailClient(
        build_gmail_service(gmail_server.url, gmail_server.credentials(refresh)),
        Recording(1000),
        policy=QUICK,
    )
    (batch,) = list(fetch_raw(client, ids, wide()))
    assert spent == [35] and len(batch.messages) == 7
    assert batch.messages[0].raw.startswith(b"From: Kunde")


def test_every_call_and_batch_goes_to_the_configured_endpoint(
    gmail_server: FakeGmailServer,
) -> None:
    document = discovery_document("https://proxy.example/")
    assert document["rootUrl"] == document["mtlsRootUrl"] == "https://proxy.example/"
    refresh = gmail_server.add_user(MAILBOX)
    service = build_gmail_service(gmail_server.url, gmail_server.credentials(refresh))
    assert service.new_batch_http_request()._batch_uri == gmail_server.url + "/batch"


def client_for(server: FakeGmailServer, policy: RetryPolicy = QUICK) -> GmailClient:
    refresh = server.add_user(MAILBOX)
    service = build_gmail_service(server.url, server.credentials(refresh))
    return GmailClient(service, TokenBucket(100_000), policy=policy)


def test_failed_batch_parts_are_retried_alone_and_404_is_gone(
    gmail_server: FakeGmailServer,
) -> None:
    client = client_for(gmail_server)
    ids = deliver_customers(gmail_server, range(10))
    gmail_server.delete(MAILBOX, ids[3])
    gmail_server.queue_fault("messages.get", 503, count=2)
    gmail_server.queue_fault("messages.get", 429, count=1)
    gmail_server.queue_fault("messages.get", 403, count=2, reason="userRateLimitExceeded")
    gmail_server.queue_fault("batch", 500)  # the whole batch, once

    batches = list(fetch_raw(client, ids, wide()))

    fetched = [m.id for b in batches for m in b.messages]
    assert sorted(fetched) == sorted(set(ids) - {ids[3]})
    assert [g for b in batches for g in b.gone] == [ids[3]]
    stats = gmail_server.stats()
    assert stats.batch_requests == 3  # refused, then 10 parts, then the 5 that failed
    assert stats.calls(MAILBOX, "messages.get") == 15
    assert client.usage.retries == 15 and client.usage.rate_limited == 3


def test_a_refused_part_stops_the_fetch(gmail_server: FakeGmailServer) -> None:
    client = client_for(gmail_server)
    ids = deliver_customers(gmail_server, range(3))
    gmail_server.queue_fault("messages.get", 403, reason="forbidden")
    with pytest.raises(GmailRefusedError, match="HTTP 403 forbidden"):
        list(fetch_raw(client, ids, wide()))


def test_calls_are_retried_then_give_up_as_unavailable(gmail_server: FakeGmailServer) -> None:
    client = client_for(gmail_server)
    gmail_server.queue_fault("getProfile", 500, count=2)
    profile = client.call("getProfile", lambda api: api.users.getProfile(userId="me"))
    assert profile["emailAddress"] == MAILBOX and client.usage.retries == 2

    gmail_server.queue_fault("getProfile", 503, count=QUICK.attempts)
    with pytest.raises(GmailUnavailableError, match="getProfile: HTTP 503"):
        client.call("getProfile", lambda api: api.users.getProfile(userId="me"))

    gmail_server.queue_fault("messages.get", 404)
    with pytest.raises(HttpError):  # a 404 is the caller's to interpret, not retried
        client.call("messages.get", lambda api: api.messages.get(userId="me", id="1"))
    assert gmail_server.stats().calls(MAILBOX, "messages.get") == 1


def test_history_records_fold_into_labels() -> None:
    def record(n: int, **fields: Any) -> dict[str, Any]:
        return {"id": str(n), **fields}

    page = HistoryPage.read(
        [
            record(1, messagesAdded=[{"message": {"id": "a", "labelIds": ["INBOX"]}}]),
            record(2, labelsAdded=[{"message": {"id": "a"}, "labelIds": ["SPAM"]}]),
            record(3, labelsRemoved=[{"message": {"id": "a"}, "labelIds": ["INBOX"]}]),
            record(
                4, labelsAdded=[{"message": {"id": "b", "labelIds": ["X", "Y"]}, "labelIds": ["Y"]}]
            ),
            record(5, messagesDeleted=[{"message": {"id": "c"}}]),
        ]
    )
    assert (page.records, page.last_record_id) == (5, 5)
    assert page.changes["a"].added and page.changes["a"].labels_from([]) == ["SPAM"]
    assert page.changes["b"].labels_from(["INBOX"]) == ["X", "Y"]
    assert page.changes["c"].deleted and page.changes["c"].labels_from(["T"]) == ["T"]


# --------------------------------------------------------------------------- units per message


def test_quota_units_per_message(runtime: Runtime, gmail_server: FakeGmailServer) -> None:
    """Measured at the fake: full sync ≈ 5.01 units per message (one messages.get each,
    list pages of 500 amortised, one getProfile); partial sync ≈ 5.02 (one get each,
    one history page of 2 units per 500 records)."""
    with workers_down(runtime):  # syncing only: no job runs
        deliver_customers(gmail_server, range(1000))
        gmail_server.reset_stats()
        report = sync(runtime, options=FAST)
        full = gmail_server.stats().users[MAILBOX]
        assert full.units_by_method == {"getProfile": 1, "messages.list": 10, "messages.get": 5000}
        assert full.units / 1000 == pytest.approx(5.011)
        assert report.total_units == full.units  # the client counts what the server charges

        deliver_customers(gmail_server, range(1000, 1100))
        gmail_server.reset_stats()
        sync(runtime, options=FAST)
        partial = gmail_server.stats().users[MAILBOX]
        assert partial.units_by_method == {"history.list": 2, "messages.get": 500}
        assert partial.units / 100 == pytest.approx(5.02)
    assert len(ledger(runtime)) == 1100


def test_parts_that_arrived_are_kept_when_the_batch_fails_afterwards(
    gmail_server: FakeGmailServer,
) -> None:
    """A part answered 401 makes the client library refresh the credentials and send it
    again inside the batch; when the refresh fails, the parts that had arrived are kept
    and only the others are fetched again."""
    client = client_for(gmail_server)
    ids = deliver_customers(gmail_server, range(6))
    client.call("getProfile", lambda api: api.users.getProfile(userId="me"))  # token fetched
    gmail_server.queue_fault("messages.get", 401, reason="authError")  # the first part
    gmail_server.queue_fault("token", 500, count=20)  # every refresh fails, retries too

    batches = list(fetch_raw(client, ids, wide()))

    assert sorted(m.id for b in batches for m in b.messages) == sorted(ids)
    # Each message downloaded once: the five that arrived were not asked for again.
    assert gmail_server.served_messages() == {gmail_id: 1 for gmail_id in ids}
    assert [len(b.messages) for b in batches] == [5, 1]
