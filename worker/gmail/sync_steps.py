"""Steps both kinds of sync share: fetch-and-stage what the ledger lacks, send what it
holds pending again, move the cursor."""

from __future__ import annotations

from collections.abc import Sequence

from crm_core.db import transaction
from crm_core.inbox import LedgerEntry, entries
from crm_core.mailboxes import advance_history_id
from worker.gmail.fetch import fetch_raw
from worker.gmail.session import SyncContext
from worker.gmail.staging import stage_fetched
from worker.intake import send_staged
from worker.runtime import sending


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


def resend_pending(ctx: SyncContext, known: dict[str, LedgerEntry]) -> int:
    """Send again the jobs of messages the ledger holds still pending (a crashed run
    may have staged them without sending; ingesting twice is harmless)."""
    with sending():
        return send_staged(e.ref(ctx.mailbox) for e in known.values() if e.pending)


def advance_cursor(ctx: SyncContext, history_id: int) -> None:
    """Everything up to ``history_id`` is staged and its jobs sent: move the cursor there
    (forward only: an older id leaves it where it is)."""
    with transaction(ctx.runtime.sessions) as session:
        advance_history_id(session, ctx.mailbox, history_id)
    current = ctx.report.history_to
    ctx.report.history_to = history_id if current is None else max(current, history_id)
