"""Prometheus metrics.

Two kinds:
- Business figures read from the database at scrape time (``DatabaseCollector``):
  messages stored by direction, skipped by reason, quarantined, pending (and pending
  again after their jobs ran out of retries), customers,
  leads, and per mailbox the sync lag and state. Read from the rows, they always equal
  what the database holds, whichever process did the work.
- Process counters (Gmail calls and quota units, rate-limit answers, push requests),
  incremented where the work happens. Dramatiq's own middleware adds job counts,
  failures, retries and durations to the worker's endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy.orm import Session, sessionmaker

from crm_core.analytics import messages_by_direction, record_counts
from crm_core.inbox import count_pending_after_retries, outcome_counts
from crm_core.mailboxes import list_mailboxes
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome, MailboxStatus
from crm_core.webhooks import webhook_health

GMAIL_CALLS = Counter(
    "crm_gmail_calls", "Gmail API calls made (batch parts counted one each).", ["method"]
)
GMAIL_QUOTA_UNITS = Counter("crm_gmail_quota_units", "Gmail quota units spent.", ["method"])
GMAIL_RATE_LIMITED = Counter(
    "crm_gmail_rate_limited", "Gmail answers that said the quota was exceeded (429/403)."
)
WEBHOOK_ATTEMPTS = Counter(
    "crm_webhook_attempts", "Webhook delivery attempts, by outcome.", ["outcome"]
)
PUSH_REQUESTS = Counter(
    "crm_push_requests", "Pub/Sub push requests received, by answer status.", ["status"]
)


class DatabaseCollector(Collector):
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        with self.sessions() as session:
            yield from _message_metrics(session)
            yield from _totals(session)
            yield from _mailbox_metrics(session)
            yield from _webhook_metrics(session)


def _message_metrics(session: Session) -> Iterator[Metric]:
    stored = CounterMetricFamily(
        "crm_messages_ingested", "Messages stored, by direction.", labels=["direction"]
    )
    for direction, count in messages_by_direction(session).items():
        stored.add_metric([direction.value], count)
    yield stored
    skipped = CounterMetricFamily(
        "crm_messages_skipped", "Messages skipped, by reason.", labels=["reason"]
    )
    outcomes = GaugeMetricFamily(
        "crm_messages_by_outcome", "Received messages by outcome.", labels=["outcome"]
    )
    by_outcome: dict[str, int] = {o.value: 0 for o in IngestOutcome}
    for (outcome, reason), count in outcome_counts(session).items():
        by_outcome[outcome.value] += count
        if outcome is IngestOutcome.SKIPPED:
            skipped.add_metric([reason or ""], count)
    yield skipped
    for name, count in by_outcome.items():
        outcomes.add_metric([name], count)
    yield outcomes
    yield GaugeMetricFamily(
        "crm_messages_quarantined", "Messages in quarantine.", value=by_outcome["quarantined"]
    )
    after_retries = count_pending_after_retries(session)
    yield GaugeMetricFamily(
        "crm_messages_pending_after_retries",
        "Messages pending again after their ingest jobs ran out of retries.",
        value=after_retries,
    )


def _totals(session: Session) -> Iterator[Metric]:
    counts = record_counts(session)
    yield CounterMetricFamily(
        "crm_customers_created", "Customers in the CRM.", value=counts.customers
    )
    yield CounterMetricFamily("crm_leads_created", "Leads in the CRM.", value=counts.leads)


def _mailbox_metrics(session: Session) -> Iterator[Metric]:
    lag = GaugeMetricFamily(
        "crm_mailbox_sync_lag_seconds",
        "Seconds since the newest Gmail history id was applied.",
        labels=["mailbox"],
    )
    since_sync = GaugeMetricFamily(
        "crm_mailbox_seconds_since_sync",
        "Seconds since the last successful sync (also moves on a quiet mailbox).",
        labels=["mailbox"],
    )
    needs_reauth = GaugeMetricFamily(
        "crm_mailbox_needs_reauth",
        "1 when the mailbox must be authorised again.",
        labels=["mailbox"],
    )
    now = utcnow()
    for mailbox in list_mailboxes(session):
        if mailbox.history_applied_at is not None:
            lag.add_metric([mailbox.address], (now - mailbox.history_applied_at).total_seconds())
        if mailbox.last_sync_at is not None:
            since_sync.add_metric([mailbox.address], (now - mailbox.last_sync_at).total_seconds())
        needs_reauth.add_metric(
            [mailbox.address], 1.0 if mailbox.status is MailboxStatus.NEEDS_REAUTH else 0.0
        )
    yield lag
    yield since_sync
    yield needs_reauth


def render(sessions: sessionmaker[Session] | None) -> bytes:
    """The exposition text: this process's counters plus, given sessions, the database's."""
    registry = CollectorRegistry()
    registry.register(_Forward(REGISTRY))
    if sessions is not None:
        registry.register(DatabaseCollector(sessions))
    return generate_latest(registry)


class _Forward(Collector):
    """Exposes another registry's metrics (the process-global counters)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        yield from self.source.collect()


def _webhook_metrics(session: Session) -> Iterator[Metric]:
    health = webhook_health(session)
    yield GaugeMetricFamily("crm_webhook_endpoints", "Webhook endpoints.", value=health.endpoints)
    yield GaugeMetricFamily(
        "crm_webhook_endpoints_disabled",
        "Webhook endpoints disabled (by hand, by a 410 answer, or after failing for days).",
        value=health.disabled,
    )
    yield GaugeMetricFamily(
        "crm_webhook_endpoints_failing",
        "Enabled webhook endpoints whose latest attempts failed.",
        value=health.failing,
    )
    yield GaugeMetricFamily(
        "crm_webhook_deliveries_pending", "Webhook deliveries not yet made.", value=health.pending
    )
    yield GaugeMetricFamily(
        "crm_webhook_deliveries_failed",
        "Webhook deliveries that failed for good.",
        value=health.failed,
    )
    yield GaugeMetricFamily(
        "crm_webhook_events_not_fanned_out",
        "Webhook events committed but not yet given deliveries.",
        value=health.not_fanned_out,
    )
