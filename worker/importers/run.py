"""Importing an export through the same jobs that Gmail sync uses."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from crm_core.analytics import record_counts
from crm_core.inbox import StagedMessage, outcome_counts, still_pending
from crm_core.statuses import IngestOutcome
from worker.importers.takeout import read_takeout
from worker.intake import bounded_chunks, stage_and_send
from worker.runtime import Runtime, unit_of_work

BATCH = 500  # messages staged per transaction at most
BATCH_BYTES = 32 * 1024 * 1024  # raw bytes staged per transaction at most (memory)


@dataclass
class ImportSummary:
    messages: int = 0
    newly_staged: int = 0
    outcomes: Counter[tuple[IngestOutcome, str | None]] = field(default_factory=Counter)
    customers_created: int = 0
    leads_created: int = 0

    def count(self, outcome: IngestOutcome) -> int:
        return sum(n for (o, _), n in self.outcomes.items() if o is outcome)

    @property
    def pending(self) -> int:
        return self.count(IngestOutcome.PENDING)


def _raw_size(message: StagedMessage) -> int:
    return len(message.raw)


def _totals(runtime: Runtime) -> tuple[int, int]:
    with runtime.sessions() as session:
        counts = record_counts(session)
    return counts.customers, counts.leads


def import_messages(
    runtime: Runtime,
    messages: Iterable[StagedMessage],
    *,
    on_progress: Callable[[int], None] = lambda n: None,
    on_ingested: Callable[[int], None] = lambda n: None,
    wait_seconds: float = 0,
) -> ImportSummary:
    """Stage messages in batches and send an ingest job for each one still pending.

    Each batch is one transaction; its jobs are sent after it commits, so a crash
    loses nothing (staged messages stay pending and a re-run sends them again).
    ``on_progress`` hears how many messages each batch staged. With a queue broker,
    ``wait_seconds`` waits for the workers to finish, and ``on_ingested`` hears how
    many more messages have their outcome at each look.
    """
    summary = ImportSummary()
    customers_before, leads_before = _totals(runtime)
    ids: list[str] = []
    mailbox = ""
    growth = runtime.growth_watch()
    outcomes = _Outcomes(runtime, on_ingested)
    for batch in bounded_chunks(messages, _raw_size, BATCH, BATCH_BYTES):
        mailbox = batch[0].mailbox
        batch_ids = [m.gmail_message_id for m in batch]
        with unit_of_work(runtime.sessions) as session:
            handoff = stage_and_send(session, batch)
        newly_staged = len(handoff.new)
        summary.newly_staged += newly_staged
        unique = set(batch_ids)
        pending = set(handoff.sent)
        growth.staged(newly_staged)
        ids.extend(batch_ids)
        summary.messages += len(batch)
        on_progress(len(batch))
        if ended_before := len(unique - pending):
            on_ingested(ended_before)
        outcomes.expect(mailbox, pending)
        outcomes.look(at_most_every=1.0)
    outcomes.wait(wait_seconds)
    with runtime.sessions() as session:
        summary.outcomes = outcome_counts(session, mailbox=mailbox, gmail_message_ids=ids)
    customers_after, leads_after = _totals(runtime)
    summary.customers_created = customers_after - customers_before
    summary.leads_created = leads_after - leads_before
    return summary


class _Outcomes:
    """The imported messages still waiting for their outcome, looked at now and then.

    Each look asks only about the messages still pending at the last one, so following
    a large import costs the database less and less.
    """

    def __init__(self, runtime: Runtime, on_ingested: Callable[[int], None]) -> None:
        self._runtime = runtime
        self._on_ingested = on_ingested
        self._mailbox = ""
        self._remaining: set[str] = set()
        self._last_look = 0.0

    def expect(self, mailbox: str, gmail_ids: Iterable[str]) -> None:
        self._mailbox = mailbox
        self._remaining.update(gmail_ids)

    def look(self, at_most_every: float = 0) -> bool:
        """Report what has ended since the last look; True when nothing is pending."""
        now = time.monotonic()
        if self._remaining and now - self._last_look >= at_most_every:
            self._last_look = now
            with self._runtime.sessions() as session:
                still = still_pending(session, self._mailbox, list(self._remaining))
            if len(still) < len(self._remaining):
                self._on_ingested(len(self._remaining) - len(still))
            self._remaining = still
        return not self._remaining

    def wait(self, seconds: float) -> None:
        """Until nothing is pending, or ``seconds`` have passed."""
        deadline = time.monotonic() + seconds
        while not self.look() and time.monotonic() < deadline:
            time.sleep(0.25)


def import_takeout(
    runtime: Runtime,
    path: Path,
    mailbox: str,
    *,
    on_progress: Callable[[int], None] = lambda n: None,
    on_ingested: Callable[[int], None] = lambda n: None,
    wait_seconds: float = 0,
) -> ImportSummary:
    return import_messages(
        runtime,
        read_takeout(path, mailbox),
        on_progress=on_progress,
        on_ingested=on_ingested,
        wait_seconds=wait_seconds,
    )
