"""After a full sync: messages skipped for a label that they no longer carry are filed.

A partial sync sees a message leave Spam or Trash in the history and reopens it. When
the history id has expired, the full sync that replaces it lists ids only and would
never notice: a rescued false positive would stay ``skipped label:spam`` for good. So a
full sync that finds such skipped messages in the ledger lists, for each configured
skip label (SPAM, TRASH, DRAFT, CHAT), the ids that carry it now (5 units per 500 ids:
these folders are small), brings the labels of the skipped messages up to date, and
puts back to pending and sends to ingestion those that no label skips any more and that
still exist. A mailbox with nothing skipped for a label costs nothing.
"""

from __future__ import annotations

from collections.abc import Collection

from crm_core.db import transaction
from crm_core.inbox import reopen_skipped, set_labels, skipped_for_a_label
from worker.gmail.listing import message_id_pages
from worker.gmail.session import SyncContext
from worker.intake import send_staged
from worker.mail.classify import skip_label
from worker.runtime import unit_of_work


def reconcile_skipped_labels(ctx: SyncContext, listed: Collection[str]) -> None:
    """``listed``: every id the full sync listed (the messages that still exist)."""
    with transaction(ctx.runtime.sessions) as session:
        skipped = skipped_for_a_label(session, ctx.mailbox)
    if not skipped:
        return
    skip_labels = ctx.runtime.rules.skip_labels
    carrying = {
        label: {i for page in message_id_pages(ctx.client, ctx.page_size, label) for i in page}
        for label in skip_labels
    }
    relabelled: dict[str, list[str]] = {}
    rescued = []
    for gmail_id, entry in skipped.items():
        labels = [label for label in entry.label_ids if label.upper() not in carrying]
        labels += [label for label, ids in carrying.items() if gmail_id in ids]
        if set(labels) != set(entry.label_ids):
            relabelled[gmail_id] = labels
        if gmail_id in listed and skip_label(labels, ctx.runtime.rules) is None:
            rescued.append(entry)
    with unit_of_work(ctx.runtime.sessions) as session:
        set_labels(session, ctx.mailbox, relabelled)
        again = [
            e.ref(ctx.mailbox)
            for e in rescued
            if reopen_skipped(session, ctx.mailbox, e.gmail_message_id)
        ]
        send_staged(again)
    ctx.report.labels_updated += len(relabelled)
    ctx.report.reopened += len(again)
