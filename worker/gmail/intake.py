"""Steps both kinds of sync share: fetch-and-stage what the ledger lacks, move the cursor."""

from __future__ import annotations

from collections.abc import Sequence

from crm_core.db import transaction
from crm_core.mailboxes import advance_history_id
from worker.gmail.fetch import fetch_raw
from worker.gmail.ledger import LedgerEntry, entries
from worker.gmail.session import SyncContext
from worker.gmail.staging import stage_fetched


def ledger_entries(ctx: SyncContext, gmail_ids: Sequence[str]) -> dict[str, LedgerEntry]:
    with transaction(ctx.runtime.sessions) as session:
        return entries(session, ctx.mailbox, gmail_ids)


def fetch_and_stage(ctx: SyncContext, gmail_ids: Sequence[str]) -> None:
    """Fetch ``gmail_ids`` raw, batch by batch, staging each batch before the next."""
    report = ctx.report
    for batch in fetch_raw(ctx.client, gmail_ids, ctx.sizer):
        report.fetched += len(batch.messages)
        report.gone += len(batch.gone)
        staged = stage_fetched(ctx.runtime, ctx.mailbox, batch.messages)
        report.staged += len(staged)
        ctx.growth.staged(len(staged))


def advance_cursor(ctx: SyncContext, history_id: int) -> None:
    """Everything up to ``history_id`` is staged and its jobs sent: move the cursor there
    (forward only: an older id leaves it where it is)."""
    with transaction(ctx.runtime.sessions) as session:
        advance_history_id(session, ctx.mailbox, history_id)
    current = ctx.report.history_to
    ctx.report.history_to = history_id if current is None else max(current, history_id)
