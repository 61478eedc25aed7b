"""Bringing one Gmail thread completely into the ledger, for ``crm replay-thread``.

threads.get cannot return raw messages (its formats are minimal, metadata and full),
so the thread is read with format=minimal (10 units: ids and labels), and only the
messages the ledger lacks are fetched raw (5 units each) and staged. The labels of
the ones it has are brought up to date, so a replay classifies them as they are now.
No ingest job is sent here: the replay that follows re-ingests the whole thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from googleapiclient.errors import HttpError

from crm_core.db import transaction
from crm_core.inbox import entries, set_labels
from crm_core.normalize import mailbox_key
from worker.gmail import requests
from worker.gmail.errors import GmailRefusedError, status_of
from worker.gmail.fetch import batch_sizer, fetch_raw
from worker.gmail.session import SyncOptions, ensure_active, open_client
from worker.gmail.staging import stage_fetched
from worker.runtime import Runtime


class ThreadNotFoundError(GmailRefusedError):
    """Gmail has no thread with that id in this mailbox."""


@dataclass
class ThreadStaging:
    thread_id: str
    message_ids: list[str] = field(default_factory=list)  # in Gmail, oldest first
    fetched: int = 0
    staged: int = 0
    gone: int = 0
    labels_updated: int = 0
    units: int = 0


def stage_thread(
    runtime: Runtime, address: str, thread_id: str, options: SyncOptions | None = None
) -> ThreadStaging:
    mailbox = mailbox_key(address)
    ensure_active(runtime, mailbox)
    result = ThreadStaging(thread_id)
    with open_client(runtime, mailbox, options) as client:
        try:
            thread = client.call("threads.get", requests.get_thread_minimal(thread_id))
        except HttpError as exc:
            if status_of(exc) == 404:
                raise ThreadNotFoundError(f"no thread {thread_id} in {mailbox}") from None
            raise
        members = {
            str(m["id"]): list(m.get("labelIds") or ()) for m in thread.get("messages") or ()
        }
        result.message_ids = list(members)
        with transaction(runtime.sessions) as session:
            known = entries(session, mailbox, result.message_ids)
            relabelled = {
                gmail_id: members[gmail_id]
                for gmail_id, entry in known.items()
                if tuple(members[gmail_id]) != entry.label_ids
            }
            set_labels(session, mailbox, relabelled)
            result.labels_updated += len(relabelled)
        missing = [gmail_id for gmail_id in members if gmail_id not in known]
        sizer = batch_sizer(client, runtime.settings.gmail)
        for batch in fetch_raw(client, missing, sizer):
            result.fetched += len(batch.messages)
            result.gone += len(batch.gone)
            # No jobs: the replay that follows sends the whole thread.
            staged = stage_fetched(runtime, mailbox, batch.messages, send=False)
            result.staged += len(staged)
        result.units = client.usage.total_units
    return result
