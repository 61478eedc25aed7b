"""Partial sync: apply what changed since the stored history id.

history.list (all pages; messageAdded, labelAdded, labelRemoved, messageDeleted) names
the messages that changed. Per page:

- a message the ledger lacks is fetched raw and staged, its ingest job sent after the
  commit (unless it was deleted again within the page: a 404 would cost 5 units);
- a message the ledger has gets its new labels in the ledger. A pending message is
  thus classified with the labels it has now (moved to spam → skipped), and its
  ingest job is sent again in case the first one was lost;
- a stored message moved to spam or trash keeps its EmailMessage: the customer's
  history stays, the ledger's label_ids show where it went;
- a message skipped because of a spam/trash label that left spam and trash is put
  back to pending and ingested again (a rescued false positive becomes a customer's
  mail);
- a message deleted in Gmail keeps its ledger row and EmailMessage; ``CRM:DELETED``
  is added to its label_ids so the ledger says what happened.

The cursor moves after each page, to the page's last record id (the response's
historyId after the last page), once everything before it is staged and its jobs
sent. A 404 for the stored id (history expired) runs one full sync instead. Cost:
5 units per new message plus 2 per page of up to 500 records.
"""

from __future__ import annotations

import logging

from googleapiclient.errors import HttpError

from crm_core.inbox import DELETED_MARKER, LedgerEntry, LedgerRef, reopen_skipped, set_labels
from crm_core.statuses import IngestOutcome
from worker.gmail import requests
from worker.gmail.errors import HistoryExpiredError, status_of
from worker.gmail.full_sync import run_full
from worker.gmail.history import HistoryPage, MessageChange
from worker.gmail.report import SyncReport
from worker.gmail.session import SyncContext, SyncOptions, run_guarded
from worker.gmail.sync_steps import advance_cursor, fetch_and_stage, ledger_entries
from worker.intake import send_staged
from worker.mail.classify import skip_label
from worker.mail.rules import IngestRules
from worker.runtime import Runtime, unit_of_work

log = logging.getLogger("worker.gmail")

HISTORY_TYPES = ["messageAdded", "labelAdded", "labelRemoved", "messageDeleted"]


def partial_sync(runtime: Runtime, address: str, options: SyncOptions | None = None) -> SyncReport:
    """Apply the changes since the last sync; a full sync when there is no usable cursor."""
    return run_guarded(runtime, address, run_partial_or_full, options)


def run_partial_or_full(ctx: SyncContext) -> None:
    if ctx.history_id is None:
        run_full(ctx)
        return
    try:
        run_partial(ctx, ctx.history_id)
    except HistoryExpiredError:
        ctx.report.history_expired = True
        log.warning("history expired; running a full sync", extra={"mailbox": ctx.mailbox})
        run_full(ctx)


def run_partial(ctx: SyncContext, start: int) -> None:
    ctx.report.kind = "partial"
    ctx.report.history_from = start
    token: str | None = None
    while True:
        try:
            answer = ctx.client.call(
                "history.list", requests.list_history(start, HISTORY_TYPES, ctx.page_size, token)
            )
        except HttpError as exc:
            if status_of(exc) == 404:
                raise HistoryExpiredError(f"history id {start} is no longer available") from exc
            raise
        page = HistoryPage.read(answer.get("history") or ())
        apply_page(ctx, page)
        token = answer.get("nextPageToken")
        if not token:
            advance_cursor(ctx, int(answer["historyId"]))
            return
        if page.last_record_id is not None:
            advance_cursor(ctx, page.last_record_id)


def apply_page(ctx: SyncContext, page: HistoryPage) -> None:
    report = ctx.report
    report.history_records += page.records
    report.listed += len(page.changes)
    known = ledger_entries(ctx, list(page.changes))
    report.known += sum(1 for i, c in page.changes.items() if c.added and i in known)
    fetch_and_stage(ctx, [i for i, c in page.changes.items() if i not in known and not c.deleted])
    with unit_of_work(ctx.runtime.sessions) as session:
        relabelled: dict[str, list[str]] = {}
        again: list[LedgerRef] = []
        for gmail_id, change in page.changes.items():
            entry = known.get(gmail_id)
            if entry is None:
                continue
            labels = change.labels_from(entry.label_ids)
            if change.deleted and DELETED_MARKER not in labels:
                labels.append(DELETED_MARKER)
            changed = tuple(labels) != entry.label_ids
            report.deleted += change.deleted
            report.labels_updated += changed and not change.deleted
            if changed:
                relabelled[gmail_id] = labels
            if entry.pending:  # its job may have been lost; ingesting twice is harmless
                again.append(entry.ref(ctx.mailbox))
                report.resent += 1
            elif _rescued(entry, change, labels, ctx.runtime.rules) and reopen_skipped(
                session, ctx.mailbox, gmail_id
            ):
                again.append(entry.ref(ctx.mailbox))
                report.reopened += 1
        set_labels(session, ctx.mailbox, relabelled)
        send_staged(again)


def _rescued(
    entry: LedgerEntry, change: MessageChange, labels: list[str], rules: IngestRules
) -> bool:
    """Skipped only for a label (spam, trash) that it no longer carries."""
    return (
        entry.outcome is IngestOutcome.SKIPPED
        and (entry.reason or "").startswith("label:")
        and not change.deleted
        and skip_label(labels, rules) is None
    )
