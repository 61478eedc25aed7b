"""Full sync: every message in the mailbox, spam and trash included, into the ledger.

1. getProfile: remember the mailbox's history id H *before* listing, so whatever
   changes while we list is replayed by the next partial sync.
2. messages.list (includeSpamTrash, pages of ``gmail.list_page_size``): for each page,
   ask the ledger which ids it has; only the others are fetched (raw, in batches) and
   staged, and ingest jobs are sent for them after each batch commits. Ids staged
   earlier but still pending get their job sent again (a crashed run may have staged
   them without sending).
3. Only then move the cursor to H (forward only).

A crash anywhere loses nothing: a re-run lists again and fetches only what is not
staged. Cost: 5 units per fetched message plus 5 per page of up to 500 ids, about
5.01 units per message.
"""

from __future__ import annotations

import logging

from crm_core.normalize import mailbox_key
from worker.gmail import requests
from worker.gmail.errors import WrongAccountError
from worker.gmail.label_reconcile import reconcile_skipped_labels
from worker.gmail.listing import message_id_pages
from worker.gmail.report import SyncReport
from worker.gmail.session import SyncContext, SyncOptions, run_guarded
from worker.gmail.sync_steps import advance_cursor, fetch_and_stage, ledger_entries, resend_pending
from worker.runtime import Runtime

log = logging.getLogger("worker.gmail")


def full_sync(runtime: Runtime, address: str, options: SyncOptions | None = None) -> SyncReport:
    """Run a full sync of ``address`` now (unless one is running or it needs re-auth)."""
    return run_guarded(runtime, address, run_full, options)


def run_full(ctx: SyncContext) -> None:
    report = ctx.report
    report.kind = "full"
    report.history_from = ctx.history_id
    profile = ctx.client.call("getProfile", requests.get_profile())
    owner = mailbox_key(str(profile.get("emailAddress") or ""))
    if owner != ctx.mailbox:
        raise WrongAccountError(f"the credentials for {ctx.mailbox} are those of {owner}")
    start_history_id = int(profile["historyId"])
    listed: set[str] = set()
    for ids in message_id_pages(ctx.client, ctx.page_size):
        report.listed += len(ids)
        listed.update(ids)
        known = ledger_entries(ctx, ids)
        report.known += len(known)
        report.resent += resend_pending(ctx, known)
        fetch_and_stage(ctx, [i for i in ids if i not in known])
    if report.known:
        reconcile_skipped_labels(ctx, listed)
    advance_cursor(ctx, start_history_id)
    log.info(
        "full sync done",
        extra={
            "mailbox": ctx.mailbox,
            "listed": report.listed,
            "fetched": report.fetched,
            "units": report.total_units,
        },
    )
